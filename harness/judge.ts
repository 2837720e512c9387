/**
 * Turns probe results into check verdicts and check verdicts into requirement
 * verdicts. Pure: the same saved observations always give the same report,
 * which is what lets `starbench report` re-judge a run under another profile.
 */
import { errorMessage } from './errors';
import { gate } from './gate';
import { fillPrompt, type Profile, type Requirement } from './profile';
import { walkTree, type Decision, type TargetAssessment, type Tree } from './decision-tree';
import { treeTargets } from './tree-targets';
import type { DeviceFileData } from './device-file/schema';
import type { RequirementResult } from './report';
import { factsOf, whyNotObserved } from './facts';
import type { Check, CheckJudgement, CheckResult, JudgeInput, Probe, ProbeResult } from './types';
import { requirementVerdict, worst, type Verdict } from './verdict';
import { declarationsFor, describeDeclarations, rowVerdict, type ReviewAnswer } from './review';

export interface JudgeOptions {
  device: JudgeInput['device'];
  checks: ReadonlyMap<string, Check>;
  results: ReadonlyMap<string, ProbeResult>;
  /** The probes that recorded the results: their declared facts say which facts are unknown. */
  probes: ReadonlyMap<string, Probe>;
  reveal: boolean;
  /** Check ids the run was restricted to (`--only`); the others are not-tested. */
  only?: ReadonlySet<string>;
  /** Other units' key fingerprints (`starbench report --compare-keys`). */
  peers?: JudgeInput['peers'];
}

/** Check ids a profile needs, in first-mention order, filtered by --only. */
export function checksForProfile(profile: Profile, only?: ReadonlySet<string>): string[] {
  const ids: string[] = [];
  for (const r of profile.requirements) for (const c of r.checks) if (!ids.includes(c) && (!only || only.has(c))) ids.push(c);
  return ids;
}

export function judgeCheck(id: string, opts: JudgeOptions): CheckResult {
  const check = opts.checks.get(id);
  if (!check) {
    return { id, title: id, verdict: 'error', rationale: `the profile names check "${id}", which starbench does not have`, findings: [], evidence: [] };
  }
  const base = { id, title: check.title, fix: check.fix, evidence: [] as string[] };
  if (opts.only && !opts.only.has(id)) {
    return { ...base, verdict: 'not-tested', rationale: 'not selected for this run (--only)', findings: [] };
  }
  if (!check.implemented) {
    return { ...base, verdict: 'not-tested', rationale: 'probe not implemented in this version of starbench', findings: [] };
  }
  const evidence = new Set<string>();
  for (const p of [...check.probes, ...(check.alsoReads ?? [])]) {
    const r = opts.results.get(p);
    if (r) {
      evidence.add(`probe:${p}`);
      r.evidence.forEach((e) => evidence.add(e));
    }
  }
  try {
    const input: JudgeInput = { device: opts.device, result: (p: string) => opts.results.get(p), reveal: opts.reveal, peers: opts.peers };
    const j = check.judge(input);
    return { ...base, ...restsOnObservedFacts(noPassWithoutEvidence(j, check, input), input, opts.probes), evidence: [...evidence] };
  } catch (err) {
    return { ...base, verdict: 'error', rationale: `the check itself failed: ${errorMessage(err)}`, findings: [], evidence: [...evidence] };
  }
}

/**
 * No evidence, no pass — enforced here for every check, whatever its own
 * logic: a `pass` needs every probe behind it to have completed and at least
 * one observation recorded.
 */
function noPassWithoutEvidence(j: CheckJudgement, check: Check, input: JudgeInput): CheckJudgement {
  if (j.verdict !== 'pass') return j;
  const blocked = check.probes.map((p) => gate(input, p)).flatMap((g) => (g.ok ? [] : [g.judgement]));
  if (blocked.length > 0) {
    return { verdict: worst(blocked.map((b) => b.verdict)), rationale: blocked.map((b) => b.rationale).join('; '), findings: j.findings };
  }
  const observed = check.probes.reduce((n, p) => n + (input.result(p)?.observations.length ?? 0), 0);
  if (observed === 0) return { verdict: 'inconclusive', rationale: 'the check would pass, but its probes recorded no observation', findings: j.findings };
  return j;
}

/**
 * A `pass` or `not-applicable` must cite the facts it rests on (`basis`), and
 * every one of them must be an observed fact: a look that could not tell
 * (FactKind.unknown) turns the verdict into `inconclusive`, whatever the
 * check's own logic concluded. A check cannot forget the unknown case.
 */
function restsOnObservedFacts(j: CheckJudgement, input: JudgeInput, probes: ReadonlyMap<string, Probe>): CheckJudgement {
  if (j.verdict !== 'pass' && j.verdict !== 'not-applicable') return j;
  const refuse = (why: string): CheckJudgement => ({
    verdict: 'inconclusive',
    rationale: `the check would say ${j.verdict} (${j.rationale}), but ${why}`,
    findings: j.findings,
    basis: j.basis,
  });
  if (!j.basis?.length) return refuse('it cites no fact it rests on');
  const unknown: string[] = [];
  for (const ref of j.basis) {
    const r = input.result(ref.probe);
    if (!r || r.status !== 'completed') return refuse(`the facts it cites (${ref.probe}: ${ref.kind}) come from a probe that ${r ? r.status : 'did not run'}`);
    const kind = probes.get(ref.probe)?.facts.find((k) => k.kind === ref.kind);
    if (!kind) return refuse(`it cites ${ref.kind}, which probe ${ref.probe} does not declare`);
    const facts = factsOf(r, kind);
    if (facts.length === 0) return refuse(`it cites ${ref.kind} of ${ref.probe}, and there is none`);
    for (const f of facts) {
      const why = whyNotObserved(kind, f, ref.part);
      if (why) unknown.push(why);
    }
  }
  if (unknown.length) return refuse(`it rests on facts that were not observed: ${[...new Set(unknown)].join('; ')}`);
  return j;
}

/**
 * A row with a decision tree: the tree walked for each of its targets, each target the worst of its conceptual,
 * completeness and sufficiency assessments, the row the worst over its targets. No target declared is not-tested
 * (never not-applicable by default).
 */
function treeRow(
  profile: Profile,
  r: Requirement & { tree: Tree },
  checkResults: ReadonlyMap<string, CheckResult>,
  device: DeviceFileData | undefined,
  decisions: readonly Decision[],
): { verdict: Verdict; assessments: TargetAssessment[]; rationale: string } {
  const check = (id: string) => checkResults.get(id) ?? { verdict: 'not-tested' as const, rationale: `check ${id} was not judged` };
  const targets = device ? treeTargets(r.tree, device) : [];
  const assessments = targets.map((t) => walkTree(profile.id, r, t, device, check, decisions));
  if (!assessments.length) {
    const what =
      r.tree.per === 'asset'
        ? `assets of kind ${r.tree.kinds?.join(' or ')}`
        : r.tree.per === 'mechanism'
          ? `${r.tree.kinds?.join(' or ')} mechanisms`
          : `${r.tree.kinds?.join(' or ')} interfaces`;
    return {
      verdict: 'not-tested',
      assessments,
      rationale: `the device file declares no ${what} to walk the decision tree for (assets:, mechanisms:, interfaces:)`,
    };
  }
  const verdict = worst(assessments.map((a) => a.verdict));
  const counts = new Map<Verdict, number>();
  for (const a of assessments) counts.set(a.verdict, (counts.get(a.verdict) ?? 0) + 1);
  return {
    verdict,
    assessments,
    rationale: `decision tree per ${r.tree.per}, worst of ${assessments.length}: ${[...counts].map(([v, n]) => `${n} ${v}`).join(', ')}`,
  };
}

export function judgeRequirements(
  profile: Profile,
  checkResults: ReadonlyMap<string, CheckResult>,
  device?: DeviceFileData,
  answers: readonly ReviewAnswer[] = [],
  decisions: readonly Decision[] = [],
): RequirementResult[] {
  return profile.requirements.map((r) => {
    const tree = r.tree ? treeRow(profile, { ...r, tree: r.tree }, checkResults, device, decisions) : undefined;
    const verdicts: Verdict[] = tree ? [tree.verdict] : r.checks.map((c) => checkResults.get(c)?.verdict ?? 'not-tested');
    const declarations = declarationsFor(profile, r, answers, device);
    const verdict = rowVerdict(verdicts, declarations);
    const parts: string[] = [];
    if (tree) parts.push(tree.rationale);
    else if (r.checks.length > 0) parts.push(`worst of its checks: ${r.checks.map((c, i) => `${c} ${verdicts[i]}`).join(', ')}`);
    if (declarations.length > 0) parts.push(describeDeclarations(declarations));
    else if (r.checks.length === 0)
      parts.push(
        r.assessedBy === 'device'
          ? 'no automated check covers this requirement yet; assess it by hand'
          : 'document review: no automated check covers this requirement',
      );
    return {
      id: r.id,
      title: r.title,
      verdict,
      checks: r.checks,
      level: r.level,
      assessedBy: r.assessedBy,
      confidence: r.confidence,
      source: r.source,
      rationale: parts.join('; '),
      reviewerPrompt: r.reviewerPrompt === undefined ? undefined : fillPrompt(r.reviewerPrompt, device),
      supplementary: r.supplementary,
      crossRefs: r.crossRefs,
      conditional: r.conditional,
      declarations: declarations.length ? declarations : undefined,
      deviceVerdict: declarations.length && r.checks.length ? requirementVerdict(verdicts) : undefined,
      ...(tree ? { assessments: tree.assessments } : {}),
      ...(r.notifiedBody ? { notifiedBody: r.notifiedBody } : {}),
    };
  });
}
