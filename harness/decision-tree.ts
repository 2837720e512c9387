/**
 * Decision-tree assessments (EN 18031): a requirement's tree of yes/no nodes
 * is walked once per asset, mechanism or interface the device file declares
 * (or once for the device). Each node's answer is recorded with where it came
 * from: the device file (the maker's declaration), a check's verdict (device
 * evidence) or a reviewer (an answers file). The walk ends at a leaf (PASS,
 * FAIL, NA) or stops where no answer is known, which is `not-tested`, never a
 * guess. An NA leaf stands only with the justification of the answer that led
 * there. Next to the tree (the conceptual assessment) come the functional
 * completeness and sufficiency assessments from the checks the catalog names;
 * each target's verdict is the worst of the three.
 */
import { z } from 'zod';
import { dottedValue } from './dotted';
import { worst, type Verdict } from './verdict';

export const ASSET_KINDS = ['security', 'network', 'privacy', 'financial'] as const;
export const MECHANISM_KINDS = [
  'access-control',
  'authentication',
  'update',
  'secure-storage',
  'secure-communication',
  'logging',
  'deletion',
  'resilience',
  'traffic-control',
  'network-monitoring',
  'boot',
] as const;
export const INTERFACE_KINDS = ['network', 'user', 'machine'] as const;
const TREE_PER = ['asset', 'mechanism', 'interface', 'device'] as const;
const LEAVES = ['PASS', 'FAIL', 'NA'] as const;
type Leaf = (typeof LEAVES)[number];
const VERDICT_NAMES = ['pass', 'fail', 'inconclusive', 'error', 'not-applicable', 'not-tested'] as const;

const nodeId = z.string().regex(/^DN-\d+$/, 'must be DN-<n>');
const branch = z.union([z.enum(LEAVES), nodeId]);
const text = z.strictObject({ en: z.string().min(1), ja: z.string().optional() });

export const treeNodeSchema = z.strictObject({
  id: nodeId,
  ask: text,
  from: z.union([
    z.strictObject({ declared: z.string().min(1) }),
    z.strictObject({ check: z.string().min(1), yes: z.array(z.enum(VERDICT_NAMES)).min(1), no: z.array(z.enum(VERDICT_NAMES)).min(1) }),
    z.strictObject({ reviewer: z.literal(true) }),
  ]),
  yes: branch,
  no: branch,
});
export type TreeNode = z.output<typeof treeNodeSchema>;

export const treeSchema = z
  .strictObject({
    per: z.enum(TREE_PER),
    kinds: z.array(z.string()).min(1).optional(),
    /** The tree has no NOT APPLICABLE leaf (the standard marks these): checked against the nodes. */
    noNotApplicable: z.boolean().optional(),
    /** The tree differs between the parts of the standard: a decision for it must name its profile. */
    partSpecific: z.boolean().optional(),
    nodes: z.array(treeNodeSchema).min(1),
  })
  .superRefine((t, ctx) => {
    const ids = new Set(t.nodes.map((n) => n.id));
    if (ids.size !== t.nodes.length) ctx.addIssue({ code: 'custom', message: 'node ids repeat' });
    const reached = new Set<string>();
    for (const n of t.nodes)
      for (const b of [n.yes, n.no]) {
        if ((LEAVES as readonly string[]).includes(b)) continue;
        if (!ids.has(b)) ctx.addIssue({ code: 'custom', message: `${n.id} leads to ${b}, which the tree does not have` });
        reached.add(b);
      }
    // One root, no cycle: every node but the first is reached from an earlier node.
    t.nodes.forEach((n, i) => {
      if (i > 0 && !reached.has(n.id)) ctx.addIssue({ code: 'custom', message: `${n.id} is never reached` });
      for (const b of [n.yes, n.no])
        if (ids.has(b) && t.nodes.findIndex((m) => m.id === b) <= i) ctx.addIssue({ code: 'custom', message: `${n.id} leads back to ${b}` });
    });
    const hasNa = t.nodes.some((n) => n.yes === 'NA' || n.no === 'NA');
    if (t.noNotApplicable && hasNa) ctx.addIssue({ code: 'custom', message: 'noNotApplicable is set but a branch leads to NA' });
    if (t.per === 'device' && t.kinds) ctx.addIssue({ code: 'custom', message: 'a tree walked once for the device takes no kinds' });
  });
export type Tree = z.output<typeof treeSchema>;

/** `false`: the standard marks the assessment not necessary; a list: the checks that give it (empty: a reviewer). */
export const functionalSchema = z.union([z.literal(false), z.array(z.string())]);

// ---- the device file's declarations the trees read (additive fields) ----

/**
 * A yes/no claim of the maker: true, false, or `{ answer, because }` with its justification. A bare text is refused:
 * YAML reads `no` and `off` as text, and "not public" is no answer a tree can take.
 */
const justification = z.union(
  [
    z.boolean(),
    z.strictObject({ answer: z.enum(['yes', 'no']), because: z.string().trim().min(1, 'must not be empty') }).describe('an answer with its justification'),
  ],
  { error: 'must be true, false, or { answer: yes|no, because: "the justification" } (a bare text is not an answer)' },
);

/** What the maker claims of a mechanism or interface: yes/no, or the justification text (a text counts as yes). */
function claims<const K extends string>(names: readonly K[]): Record<K, z.ZodOptional<typeof justification>> {
  return Object.fromEntries(names.map((n) => [n, justification.optional()])) as Record<K, z.ZodOptional<typeof justification>>;
}

export const assetSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
  kind: z.enum(ASSET_KINDS),
  title: z.string().optional(),
  /** Where it is kept (flash, secure element, cloud…); an empty list or absent: not stored on the device. */
  stored: z.array(z.string()).optional(),
  /** The declared service ports (or interface ids) it crosses. */
  communicated: z.array(z.union([z.number().int(), z.string()])).optional(),
  /** Reachable through an interface; default: yes when it crosses a declared port. */
  reachable: justification.optional(),
  confidential: z.boolean().optional(),
  /** The scoping exits: true/false, or the justification text (a text counts as yes). */
  publicAccess: justification.optional(),
  protectedByEnvironment: justification.optional(),
  legalObligation: justification.optional(),
  securelyStored: justification.optional(),
  integrityProtected: justification.optional(),
  confidentialityProtected: justification.optional(),
  securelyCommunicated: justification.optional(),
  deletable: justification.optional(),
});

/** What a maker can claim of a mechanism or an interface, as the trees ask it (`declared:` nodes read these). */
export const MECHANISM_CLAIMS = [
  'perIdentity',
  'leastPrivilege',
  'factor',
  'multiFactor',
  'verifiesFully',
  'changeable',
  'factoryPassword',
  'bruteForce',
  'integrity',
  'automatic',
  'authenticatesPeer',
  'encrypts',
  'replayProtected',
  'bestPracticeCrypto',
] as const;
export const INTERFACE_CLAIMS = [
  'carriesAssets',
  'unauthenticatedByDesign',
  'protectedByEnvironment',
  'authenticated',
  'machineAccess',
  'resilient',
  'optional',
  'canDisable',
  'acceptsInput',
  'validatesInput',
] as const;

export const mechanismSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only'),
  kind: z.enum(MECHANISM_KINDS),
  title: z.string().optional(),
  /** The assets it protects (ids from assets:). */
  assets: z.array(z.string()).default([]),
  /** The declared service it is implemented on (a port from services: or auth:). */
  port: z.number().int().min(1).max(65535).optional(),
  /** The implementation category the sufficiency assessment tests it under (e.g. "password", "signature"). */
  category: z.string().optional(),
  ...claims(MECHANISM_CLAIMS),
});

/** Declarations per interface: a network one names its declared service's port, a user or machine one an id of its own. */
export const interfaceSchema = z
  .strictObject({
    id: z
      .string()
      .regex(/^[A-Za-z0-9._/-]+$/, 'letters, digits, . _ / - only')
      .optional(),
    kind: z.enum(INTERFACE_KINDS).default('network'),
    port: z.number().int().min(1).max(65535).optional(),
    title: z.string().optional(),
    ...claims(INTERFACE_CLAIMS),
  })
  .refine((i) => i.port !== undefined || i.id !== undefined, 'needs a port (a declared service) or an id');

export const equipmentSchema = z.strictObject({
  childContent: justification.optional().describe('a toy or childcare product that reaches external content'),
  childData: justification.optional().describe("it handles children's personal data"),
  childLimits: justification.optional().describe("it offers settings that limit a child's access"),
  networkEquipment: justification.optional().describe('router, gateway, access point: equipment that forwards traffic'),
  sensors: justification.optional().describe('camera, microphone, location or other sensing of the surroundings'),
  preinstalledKeys: justification.optional().describe('it ships with keys (TLS, SSH host keys)'),
  verifiedBoot: justification.optional(),
  logging: z
    .strictObject({
      events: justification.optional(),
      persistent: justification.optional(),
      minimumEvents: z.number().int().min(0).optional(),
      timestamps: justification.optional(),
    })
    .optional(),
});

export type AssetDecl = z.output<typeof assetSchema>;
export type MechanismDecl = z.output<typeof mechanismSchema>;

const PLACEHOLDER = /^(todo|tbd|xxx|\?+)\b/i;

/** A reviewer's answer to one node (or one functional assessment) for one target, from an answers file. */
export const decisionSchema = z.strictObject({
  profile: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional(),
  requirement: z.string().trim().min(1),
  /** The asset, mechanism or interface id the answer is for; "device" for a tree walked once. */
  target: z.string().trim().min(1),
  node: z.union([nodeId, z.enum(['completeness', 'sufficiency'])]),
  answer: z.enum(['yes', 'no']),
  justification: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .refine((t) => !PLACEHOLDER.test(t), 'is still a placeholder: write the justification the answer rests on'),
  reference: z
    .string()
    .trim()
    .min(1)
    .refine((t) => !PLACEHOLDER.test(t), 'is still a placeholder')
    .optional(),
  reviewer: z.string().optional(),
  date: z
    .union([z.string(), z.date()])
    .transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d))
    .optional(),
});
export type Decision = z.output<typeof decisionSchema>;

// ---- walking ----

export interface WalkTarget {
  per: Tree['per'];
  id: string;
  title?: string;
  kind?: string;
  /** The values `declared:` nodes read (the target's own fields and derived ones). */
  fields: Record<string, unknown>;
  /** A network interface's service ("tcp/443"): a check that tests service by service passes it only when it tested it. */
  service?: string;
}

export interface PathStep {
  node: string;
  ask: string;
  answer: 'yes' | 'no' | 'unknown';
  source: 'device-file' | 'check' | 'reviewer' | 'none';
  /** The field, check or reviewer reference the answer rests on. */
  ref?: string;
  justification?: string;
}

export interface FunctionalResult {
  verdict: Verdict;
  checks: string[];
  rationale: string;
}

export interface TargetAssessment {
  target: { per: Tree['per']; id: string; title?: string; kind?: string };
  path: PathStep[];
  leaf?: 'pass' | 'fail' | 'not-applicable';
  conceptual: Verdict;
  completeness?: FunctionalResult;
  sufficiency?: FunctionalResult;
  verdict: Verdict;
  justification?: string;
  rationale: string;
}

interface Row {
  id: string;
  tree: Tree;
  completeness?: z.output<typeof functionalSchema>;
  sufficiency?: z.output<typeof functionalSchema>;
}

interface CheckView {
  verdict: Verdict;
  rationale: string;
  ports?: Record<string, Verdict>;
}

const LEAF_VERDICT: Record<Leaf, 'pass' | 'fail' | 'not-applicable'> = { PASS: 'pass', FAIL: 'fail', NA: 'not-applicable' };

const ANSWER_WORDS = /^(yes|y|no|n|on|off|true|false|none|n\/a|na|not applicable|-|tbd|todo.*)$/i;

/**
 * A declared value as an answer: booleans as such, `{ answer, because }` with its justification, a list as yes when
 * not empty; a text (a URL or reference the device file names, or a value starbench derived) as yes, with itself as
 * the justification, unless it reads like an answer word.
 */
function declaredAnswer(v: unknown): { answer: 'yes' | 'no'; justification?: string } | undefined {
  if (v && typeof v === 'object' && 'answer' in v && 'because' in v) {
    const a = v as { answer: unknown; because: unknown };
    if ((a.answer === 'yes' || a.answer === 'no') && typeof a.because === 'string') return { answer: a.answer, justification: a.because };
  }
  if (typeof v === 'boolean') return { answer: v ? 'yes' : 'no' };
  // A text (a URL, a document reference the device file names) is a yes, with itself as the reference; a text that
  // reads like an answer word is no answer at all.
  if (typeof v === 'string') return v.trim() && !ANSWER_WORDS.test(v.trim()) ? { answer: 'yes', justification: v.trim() } : undefined;
  if (typeof v === 'number') return { answer: v > 0 ? 'yes' : 'no' };
  if (Array.isArray(v)) return { answer: v.length ? 'yes' : 'no' };
  if (v && typeof v === 'object') return { answer: 'yes' };
  return undefined;
}

function readDeclared(target: WalkTarget, field: string, device: unknown): unknown {
  if (field.startsWith('device.')) return dottedValue(device, field.slice('device.'.length));
  return target.fields[field];
}

/** Walks one tree for one target. */
export function walkTree(
  profileId: string,
  row: Row,
  target: WalkTarget,
  device: unknown,
  checkOf: (id: string) => CheckView,
  decisions: readonly Decision[],
): TargetAssessment {
  // A check's pass covers an interface only when the check tested that port (when it says which ports it tested).
  const check = (id: string): CheckView => {
    const c = checkOf(id);
    if (c.verdict !== 'pass' || !c.ports || target.service === undefined) return c;
    const v = c.ports[target.service];
    return v ? { ...c, verdict: v } : { ...c, verdict: 'not-tested', rationale: `${id} did not test ${target.service} (${c.rationale})` };
  };
  const mine = decisions.filter((d) => d.requirement === row.id && d.target === target.id && (d.profile ? d.profile === profileId : !row.tree.partSpecific));
  const reviewerFor = (node: string): Decision | undefined => mine.filter((d) => d.node === node).at(-1);
  const path: PathStep[] = [];
  let at: string = row.tree.nodes[0].id;
  let leaf: Leaf | undefined;
  let stop: { verdict: Verdict; why: string } | undefined;
  for (let guard = 0; guard <= row.tree.nodes.length && !leaf && !stop; guard++) {
    const node = row.tree.nodes.find((n) => n.id === at)!;
    const from = node.from;
    const r = reviewerFor(node.id);
    let step: PathStep;
    if ('check' in from) {
      const c = check(from.check);
      const decided = from.yes.includes(c.verdict) ? 'yes' : from.no.includes(c.verdict) ? 'no' : undefined;
      if (decided) step = { node: node.id, ask: node.ask.en, answer: decided, source: 'check', ref: `${from.check}: ${c.verdict}` };
      else if (r && c.verdict === 'not-tested') step = reviewerStep(node, r, `the check ${from.check} was not tested (${c.rationale})`);
      else {
        step = { node: node.id, ask: node.ask.en, answer: 'unknown', source: 'check', ref: `${from.check}: ${c.verdict}` };
        stop = {
          verdict: c.verdict === 'not-applicable' || c.verdict === 'pass' || c.verdict === 'fail' ? 'not-tested' : c.verdict,
          why: `${node.id} rests on ${from.check}, which says ${c.verdict} (${c.rationale}): the node stays unanswered`,
        };
      }
    } else if (r) step = reviewerStep(node, r);
    else if ('declared' in from) {
      const d = declaredAnswer(readDeclared(target, from.declared, device));
      if (d) step = { node: node.id, ask: node.ask.en, answer: d.answer, source: 'device-file', ref: from.declared, justification: d.justification };
      else {
        step = { node: node.id, ask: node.ask.en, answer: 'unknown', source: 'none', ref: from.declared };
        stop = { verdict: 'not-tested', why: `${node.id} is unanswered: declare ${from.declared} in the device file or answer it in an answers file` };
      }
    } else {
      step = { node: node.id, ask: node.ask.en, answer: 'unknown', source: 'none' };
      stop = { verdict: 'not-tested', why: `${node.id} needs a reviewer's answer (answers file: decisions)` };
    }
    path.push(step);
    if (stop) break;
    const next = step.answer === 'yes' ? node.yes : node.no;
    if ((LEAVES as readonly string[]).includes(next)) leaf = next as Leaf;
    else at = next;
  }
  const last = path.at(-1);
  let conceptual: Verdict;
  let justification: string | undefined;
  let rationale: string;
  if (leaf === 'NA') {
    justification = last?.justification;
    conceptual = justification ? 'not-applicable' : 'not-tested';
    rationale = justification
      ? `not applicable at ${last!.node}: ${justification}`
      : `${last!.node} leads to not applicable, but the answer carries no justification: give one ({ answer: no, because: "…" } in the device file, or a decision in an answers file)`;
  } else if (leaf) {
    conceptual = LEAF_VERDICT[leaf];
    rationale = `tree: ${leaf} at ${last!.node}`;
  } else {
    conceptual = stop!.verdict;
    rationale = stop!.why;
  }
  const assessment: TargetAssessment = {
    target: { per: target.per, id: target.id, title: target.title, kind: target.kind },
    path,
    leaf: leaf ? LEAF_VERDICT[leaf] : undefined,
    conceptual,
    verdict: conceptual,
    justification,
    rationale,
  };
  if (conceptual === 'not-applicable') return assessment;
  const functional = (which: 'completeness' | 'sufficiency'): FunctionalResult | undefined => {
    const spec = row[which];
    if (spec === false || spec === undefined) return undefined;
    const r = reviewerFor(which);
    const checks = spec.map((id) => ({ id, ...check(id) }));
    const verdicts: Verdict[] = checks.map((c) => c.verdict);
    const parts = checks.map((c) => `${c.id} ${c.verdict}`);
    if (r) {
      verdicts.push(r.answer === 'yes' ? 'pass' : 'fail');
      parts.push(`reviewer: ${r.answer}${r.reference ? ` (${r.reference})` : ''}: ${r.justification}`);
    }
    if (verdicts.length === 0)
      return { verdict: 'not-tested', checks: [], rationale: `no check covers the ${which} assessment: a reviewer answers it (node: ${which})` };
    // Checks that found nothing to test (not-applicable) give no evidence for this target on their own.
    const decisive = verdicts.filter((v) => v !== 'not-applicable');
    return { verdict: decisive.length ? worst(decisive) : 'not-tested', checks: spec, rationale: parts.join(', ') };
  };
  assessment.completeness = functional('completeness');
  assessment.sufficiency = functional('sufficiency');
  // The functional assessments count once the tree has settled that the requirement applies (a PASS or FAIL leaf):
  // a check's finding cannot fail a requirement whose applicability is still open, nor stand in for the tree.
  if (leaf === 'PASS' || leaf === 'FAIL')
    assessment.verdict = worst([conceptual, ...[assessment.completeness, assessment.sufficiency].flatMap((f) => (f ? [f.verdict] : []))]);
  else assessment.rationale += '; the functional assessments are shown but not counted until the tree settles that the requirement applies';
  return assessment;
}

function reviewerStep(node: TreeNode, r: Decision, note?: string): PathStep {
  return {
    node: node.id,
    ask: node.ask.en,
    answer: r.answer,
    source: 'reviewer',
    ref: [r.reviewer, r.reference, r.date, note].filter(Boolean).join(', ') || undefined,
    justification: r.justification,
  };
}
