/**
 * The EN 18031 catalogs and the decision-tree walk. The catalogs are generated
 * from one source and must match it; each part has the requirements the
 * published structure gives it (48 distinct across the three), the trees the
 * standard marks without a not-applicable leaf have none, and the Official
 * Journal restrictions are flagged where they apply and nowhere else. The
 * walk never reaches not-applicable without a justification, never passes on
 * an unanswered node or an undecided check, and lets a reviewer answer only
 * what the device evidence left open.
 */
import { readFileSync } from 'node:fs';
import { INTERFACE_CLAIMS, MECHANISM_CLAIMS, walkTree, type Decision, type Tree, type WalkTarget } from '../../harness/decision-tree';
import type { DeviceFileInput } from '../../harness/device-file/schema';
import { StarbenchError } from '../../harness/errors';
import { judgeRequirements } from '../../harness/judge';
import { loadProfile, type Profile } from '../../harness/profile';
import { loadReviewFile } from '../../harness/review';
import { checkDecisions, treeTargets } from '../../harness/tree-targets';
import type { CheckResult } from '../../harness/types';
import type { Verdict } from '../../harness/verdict';
import { CHECKS } from '../../profiles/checks';
import { catalogFile, catalogText, loadSource, PARTS } from '../../profiles/src/en-18031';
import { deviceFrom } from '../helpers/device';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const parts = Object.fromEntries(PARTS.map((p) => [p, loadProfile(`en-18031-${p}`)])) as Record<1 | 2 | 3, Profile>;
const ids = (p: 1 | 2 | 3): string[] => parts[p].requirements.map((r) => r.id);

describe('the EN 18031 catalogs', () => {
  it.each(PARTS)('en-18031-%s is what `npm run catalogs` writes from the source', (p) => {
    expect(readFileSync(catalogFile(p), 'utf8')).toBe(catalogText(p));
  });

  it('33, 43 and 37 requirements; 48 distinct, AUM-2 of part 1 and AUM-2-1 of parts 2 and 3 being one', () => {
    expect(PARTS.map((p) => ids(p).length)).toEqual([33, 43, 37]);
    const distinct = new Set(PARTS.flatMap((p) => ids(p)).map((id) => (id === 'AUM-2-1' ? 'AUM-2' : id)));
    expect(distinct.size).toBe(48);
    expect(ids(1)).toContain('AUM-2');
    expect(ids(2)).toContain('AUM-2-1');
    expect(ids(3)).toContain('AUM-2-1');
  });

  it('part-specific requirements sit in their parts only', () => {
    const only = (req: string): number[] => PARTS.filter((p) => ids(p).includes(req));
    for (const r of ['RLM-1', 'NMM-1', 'TCM-1']) expect({ r, parts: only(r) }).toEqual({ r, parts: [1] });
    for (const r of ['ACM-3', 'ACM-4', 'ACM-5', 'ACM-6', 'DLM-1', 'UNM-1', 'UNM-2', 'GEC-7']) expect({ r, parts: only(r) }).toEqual({ r, parts: [2] });
    for (const r of ['AUM-1-3', 'GEC-8']) expect({ r, parts: only(r) }).toEqual({ r, parts: [3] });
    for (const r of ['AUM-2-2', 'LGM-1', 'LGM-2', 'LGM-3', 'LGM-4']) expect({ r, parts: only(r) }).toEqual({ r, parts: [2, 3] });
    for (const r of ['ACM-1', 'AUM-1-1', 'SUM-2', 'SCM-1', 'CCK-3', 'GEC-1', 'CRY-1']) expect({ r, parts: only(r) }).toEqual({ r, parts: [1, 2, 3] });
  });

  it('the trees the standard gives no not-applicable leaf have none (SCM-1 too, in part 3)', () => {
    const none = [
      'ACM-2',
      'AUM-2',
      'AUM-2-1',
      'AUM-2-2',
      'AUM-3',
      'AUM-5-1',
      'AUM-5-2',
      'AUM-6',
      'SUM-2',
      'SUM-3',
      'SSM-2',
      'SSM-3',
      'LGM-3',
      'LGM-4',
      'DLM-1',
      'UNM-2',
      'GEC-5',
      'GEC-8',
    ];
    for (const p of PARTS)
      for (const r of parts[p].requirements) {
        const naLeaf = r.tree!.nodes.some((n) => n.yes === 'NA' || n.no === 'NA');
        expect({ p, r: r.id, noNa: r.tree!.noNotApplicable ?? false }).toEqual({ p, r: r.id, noNa: !naLeaf });
        if (none.includes(r.id)) expect({ p, r: r.id, naLeaf }).toEqual({ p, r: r.id, naLeaf: false });
      }
    const scm1 = (p: 1 | 2 | 3) => parts[p].requirements.find((r) => r.id === 'SCM-1')!.tree!;
    expect(scm1(1).nodes.filter((n) => n.yes === 'NA' || n.no === 'NA').length).toBe(2);
    // in part 3 nothing leads out: an asset that crosses no network meets it
    expect(scm1(3).nodes.filter((n) => n.yes === 'NA' || n.no === 'NA')).toEqual([]);
    expect(scm1(3).noNotApplicable).toBe(true);
  });

  it('the assessments the standard marks not necessary (completeness †, sufficiency ‡) are false, and only those', () => {
    const dagger = ['ACM-2', 'AUM-2', 'AUM-2-1', 'AUM-2-2', 'AUM-3', 'AUM-4', 'AUM-5-1', 'AUM-5-2', 'AUM-6', 'SUM-1', 'SUM-2', 'SUM-3', 'SSM-2'];
    dagger.push('SCM-2', 'SCM-3', 'SCM-4', 'NMM-1', 'TCM-1', 'LGM-1', 'LGM-2', 'LGM-3', 'LGM-4', 'UNM-2');
    const ddagger = ['CCK-2', 'GEC-2', 'GEC-4', 'GEC-5', 'GEC-7'];
    for (const p of PARTS)
      for (const r of parts[p].requirements)
        expect({ r: r.id, completeness: r.completeness === false, sufficiency: r.sufficiency === false }).toEqual({
          r: r.id,
          completeness: dagger.includes(r.id),
          sufficiency: ddagger.includes(r.id),
        });
  });

  it('a tree that differs between parts takes only decisions that name their part', () => {
    expect(parts[3].requirements.find((r) => r.id === 'SCM-1')!.tree!.partSpecific).toBe(true);
    expect(parts[1].requirements.find((r) => r.id === 'ACM-1')!.tree!.partSpecific).toBeUndefined();
  });

  it('the Official Journal restrictions: AUM-5-1/-2 everywhere, ACM-3…6 in part 2, SUM-2 in part 3, nothing else', () => {
    const flagged = (p: 1 | 2 | 3) => parts[p].requirements.filter((r) => r.notifiedBody).map((r) => r.id);
    expect(flagged(1)).toEqual(['AUM-5-1', 'AUM-5-2']);
    expect(flagged(2)).toEqual(['ACM-3', 'ACM-4', 'ACM-5', 'ACM-6', 'AUM-5-1', 'AUM-5-2']);
    expect(flagged(3)).toEqual(['AUM-5-1', 'AUM-5-2', 'SUM-2']);
  });

  it('every check a tree or an assessment names exists, and is in the row checks (so a run plans it)', () => {
    for (const p of PARTS)
      for (const r of parts[p].requirements) {
        const named = [...r.tree!.nodes.flatMap((n) => ('check' in n.from ? [n.from.check] : [])), ...(r.completeness || []), ...(r.sufficiency || [])];
        for (const c of named) {
          expect({ r: r.id, c, known: CHECKS.has(c) }).toEqual({ r: r.id, c, known: true });
          expect(r.checks).toContain(c);
        }
      }
  });

  it('asset trees walk the part’s asset kinds; every declared field a node reads is one the device file can give', () => {
    expect(parts[1].requirements.find((r) => r.id === 'ACM-1')!.tree!.kinds).toEqual(['security', 'network']);
    expect(parts[2].requirements.find((r) => r.id === 'ACM-1')!.tree!.kinds).toEqual(['security', 'privacy']);
    expect(parts[3].requirements.find((r) => r.id === 'ACM-1')!.tree!.kinds).toEqual(['security', 'financial']);
    // Each `declared:` field is given by the target (its own or a derived field) or is a device-file path.
    const asset = ['reachable', 'publicAccess', 'protectedByEnvironment', 'legalObligation', 'guarded', 'stored', 'communicated', 'storedConfidential'];
    const known: Record<string, string[]> = {
      asset: [...asset, 'securelyStored', 'integrityProtected', 'confidentialityProtected', 'securelyCommunicated', 'deletable'],
      mechanism: [...MECHANISM_CLAIMS],
      interface: [...INTERFACE_CLAIMS],
      device: [],
    };
    const devicePaths = /^device\.(equipment\.[a-zA-Z.]+|documentation\.[a-zA-Z]+|credentialChange|update\.install)$/;
    for (const r of loadSource().requirements)
      for (const t of [r.tree, ...Object.values(r.treeByPart ?? {})])
        for (const n of t!.nodes) {
          const f = n.from.declared;
          if (!f) continue;
          const ok = f.startsWith('device.') ? devicePaths.test(f) : known[t!.per].includes(f);
          expect({ r: r.id, node: n.id, field: f, ok }).toEqual({ r: r.id, node: n.id, field: f, ok: true });
        }
  });
});

// ---- the walk ---------------------------------------------------------------------
const TREE: Tree = {
  per: 'asset',
  kinds: ['security'],
  nodes: [
    { id: 'DN-1', ask: { en: 'reachable?' }, from: { declared: 'reachable' }, yes: 'DN-2', no: 'NA' },
    { id: 'DN-2', ask: { en: 'guarded?' }, from: { check: 'auth.unauthenticated-access', yes: ['pass'], no: ['fail'] }, yes: 'DN-3', no: 'FAIL' },
    { id: 'DN-3', ask: { en: 'documented?' }, from: { reviewer: true }, yes: 'PASS', no: 'FAIL' },
  ],
};
const row = { id: 'ACM-1', tree: TREE, completeness: false as const, sufficiency: ['comms.tls'] };
const target = (fields: Record<string, unknown>): WalkTarget => ({ per: 'asset', id: 'cam-key', kind: 'security', fields });
const checksSay = (v: Record<string, Verdict>) => (id: string) => ({ verdict: v[id] ?? ('not-tested' as Verdict), rationale: `${id} said so` });
const decision = (node: string, answer: 'yes' | 'no', over: Partial<Decision> = {}): Decision => ({
  requirement: 'ACM-1',
  target: 'cam-key',
  node: node as Decision['node'],
  answer,
  justification: 'section 4.2 of the security design',
  ...over,
});
const walk = (fields: Record<string, unknown>, v: Record<string, Verdict>, d: Decision[] = []) =>
  walkTree('en-18031-1', row, target(fields), {}, checksSay(v), d);

describe('walking a decision tree', () => {
  it('not-applicable needs a justification: a bare "no" stops as not-tested, a "no, because" is not-applicable', () => {
    expect(walk({ reachable: false }, {})).toMatchObject({ leaf: 'not-applicable', conceptual: 'not-tested', verdict: 'not-tested' });
    expect(walk({ reachable: { answer: 'no', because: 'kept in the secure element, no interface reads it' } }, {})).toMatchObject({
      conceptual: 'not-applicable',
      verdict: 'not-applicable',
      justification: 'kept in the secure element, no interface reads it',
    });
  });
  it('an unanswered node stops the walk as not-tested and names what to declare: never a default branch', () => {
    const a = walk({}, { 'auth.unauthenticated-access': 'pass', 'comms.tls': 'pass' });
    expect(a).toMatchObject({ conceptual: 'not-tested', verdict: 'not-tested', path: [{ node: 'DN-1', answer: 'unknown' }] });
    expect(a.rationale).toMatch(/declare reachable/);
  });
  it('a check node: fail → FAIL; inconclusive stops as inconclusive, never a pass; a reviewer cannot overrule a decisive verdict', () => {
    expect(walk({ reachable: true }, { 'auth.unauthenticated-access': 'fail' }).verdict).toBe('fail');
    expect(walk({ reachable: true }, { 'auth.unauthenticated-access': 'inconclusive' }, [decision('DN-2', 'yes'), decision('DN-3', 'yes')])).toMatchObject({
      conceptual: 'inconclusive',
      verdict: 'inconclusive',
    });
    expect(
      walk({ reachable: true }, { 'auth.unauthenticated-access': 'fail', 'comms.tls': 'pass' }, [decision('DN-2', 'yes'), decision('DN-3', 'yes')]).verdict,
    ).toBe('fail');
  });
  it('a reviewer answers what the evidence left open (a check not run, a reviewer node), and is recorded as such', () => {
    const a = walk({ reachable: true }, { 'comms.tls': 'pass' }, [
      decision('DN-2', 'yes'),
      decision('DN-3', 'yes', { reference: 'TD §4', reviewer: 'A. Sato' }),
    ]);
    expect(a).toMatchObject({ leaf: 'pass', conceptual: 'pass', verdict: 'pass' });
    expect(a.path.map((s) => s.source)).toEqual(['device-file', 'reviewer', 'reviewer']);
    expect(a.path[2].ref).toMatch(/A. Sato, TD §4/);
    // decisions for another target, requirement or profile are not this walk's
    expect(
      walk({ reachable: true }, { 'comms.tls': 'pass' }, [decision('DN-2', 'yes', { target: 'other' }), decision('DN-3', 'yes', { profile: 'en-18031-2' })])
        .verdict,
    ).toBe('not-tested');
  });
  it('the functional assessments count once the tree settles that the row applies; the worst of the three wins', () => {
    const d = [decision('DN-3', 'yes')];
    expect(walk({ reachable: true }, { 'auth.unauthenticated-access': 'pass', 'comms.tls': 'fail' }, d)).toMatchObject({ conceptual: 'pass', verdict: 'fail' });
    expect(walk({ reachable: true }, { 'auth.unauthenticated-access': 'pass', 'comms.tls': 'inconclusive' }, d).verdict).toBe('inconclusive');
    expect(walk({ reachable: true }, { 'auth.unauthenticated-access': 'pass', 'comms.tls': 'pass' }, d).verdict).toBe('pass');
    // a sufficiency check that found nothing to test gives no evidence on its own
    expect(walk({ reachable: true }, { 'auth.unauthenticated-access': 'pass', 'comms.tls': 'not-applicable' }, d)).toMatchObject({ verdict: 'not-tested' });
    // stopped before a leaf: a check's fail is shown, not counted
    const open = walk({}, { 'comms.tls': 'fail' });
    expect(open).toMatchObject({ verdict: 'not-tested', sufficiency: { verdict: 'fail' } });
  });
});

// ---- targets, rows, answers files ----------------------------------------------------
const DEVICE: DeviceFileInput = {
  device: { name: 'cam' },
  target: { host: '198.18.9.2' },
  services: [
    { port: 443, protocol: 'https' },
    { port: 1883, protocol: 'mqtt' },
  ],
  auth: [{ port: 443, protocol: 'https', scheme: 'basic', bruteForce: 'lockout', lockoutAfter: 5 }],
  assets: [
    { id: 'owner-key', kind: 'security', stored: ['flash'], communicated: [443], confidential: true },
    { id: 'clips', kind: 'privacy', stored: [], communicated: [1883] },
  ],
};

describe('targets and rows', () => {
  const en1 = parts[1];
  const tree = (id: string) => en1.requirements.find((r) => r.id === id)!.tree!;
  it('assets of the part’s kinds, mechanisms from auth: when none are declared, interfaces from services:', () => {
    const d = deviceFrom(DEVICE);
    expect(treeTargets(tree('ACM-1'), d).map((t) => t.id)).toEqual(['owner-key']);
    expect(treeTargets(parts[2].requirements.find((r) => r.id === 'ACM-1')!.tree!, d).map((t) => t.id)).toEqual(['owner-key', 'clips']);
    expect(treeTargets(tree('AUM-6'), d).map((t) => [t.id, t.fields.bruteForce])).toEqual([['auth-443-https', 'declared bruteForce: lockout']]);
    expect(treeTargets(tree('AUM-1-1'), d).map((t) => [t.id, t.fields.carriesAssets, t.fields.authenticated])).toEqual([
      ['tcp/443', 'carries owner-key', 'declared basic login (auth:)'],
      ['tcp/1883', 'carries clips', undefined],
    ]);
  });
  it('a row with no target declared is not-tested, never not-applicable', () => {
    const rows = judgeRequirements(en1, new Map<string, CheckResult>(), deviceFrom({ device: { name: 'bare' }, target: { host: '198.18.9.2' } }));
    const acm1 = rows.find((r) => r.id === 'ACM-1')!;
    expect(acm1).toMatchObject({ verdict: 'not-tested', assessments: [] });
    expect(acm1.rationale).toMatch(/declares no assets of kind security or network/);
    expect(rows.find((r) => r.id === 'AUM-5-1')!.notifiedBody).toMatch(/notified body/);
  });
  it('an answers file with a wrong node, target or requirement is refused with where it is', () => {
    const d = deviceFrom(DEVICE);
    const bad = (dec: Partial<Decision>) => () => checkDecisions(en1, [{ ...decision('DN-1', 'yes'), target: 'owner-key', ...dec }], d, 'answers.yaml');
    expect(bad({})).not.toThrow();
    expect(bad({ node: 'DN-9' })).toThrow(/answers.yaml: decisions\[0\]\.node DN-9 is not a node of ACM-1/);
    expect(bad({ target: 'nope' })).toThrow(/decisions\[0\]\.target "nope" is not walked for ACM-1 \(its targets: owner-key\)/);
    expect(bad({ requirement: 'DLM-1', profile: 'en-18031-1' })).toThrow(/"DLM-1" is not a requirement of en-18031-1/);
    expect(bad({ requirement: 'ACM-2', node: 'completeness', target: 'auth-443-https' })).toThrow(/completeness assessment of ACM-2 is marked not necessary/);
    // a decision for part 2 only, or naming no profile and a requirement part 1 lacks, is not part 1's business
    expect(bad({ requirement: 'DLM-1' })).not.toThrow();
  });
  it('a malformed answers file names file:line: field', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-answers-'));
    const file = path.join(dir, 'answers.yaml');
    writeFileSync(file, 'decisions:\n  - requirement: ACM-1\n    target: owner-key\n    node: DN-1\n    answer: maybe\n    justification: x\n');
    expect(() => loadReviewFile(file)).toThrow(StarbenchError);
    expect(() => loadReviewFile(file)).toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:5: decisions\\[0\\]\\.answer`));
    writeFileSync(file, 'decisions:\n  - requirement: ACM-1\n    target: owner-key\n    node: DN-1\n    answer: yes\n');
    expect(() => loadReviewFile(file)).toThrow(/:2: decisions\[0\]\.justification is required/);
  });
});

describe('what an adversarial read found (each once a false not-applicable or pass)', () => {
  it('a bare text is no answer: YAML `no` (a string) and "not public" are refused in claims', () => {
    const withAsset = (over: Record<string, unknown>) => () =>
      deviceFrom({ ...DEVICE, assets: [{ id: 'k', kind: 'security', communicated: [443], ...over }] } as DeviceFileInput);
    expect(withAsset({ publicAccess: 'no' })).toThrow(/assets\[0\]\.publicAccess must be true, false, or \{ answer: yes\|no, because/);
    expect(withAsset({ publicAccess: 'not public' })).toThrow(/a bare text is not an answer/);
    expect(withAsset({ publicAccess: { answer: 'yes', because: 'the status page is public by design' } })).not.toThrow();
  });
  it('claims the rest of the device file contradicts are refused', () => {
    expect(() => deviceFrom({ ...DEVICE, assets: [{ id: 'k', kind: 'security', communicated: [443], reachable: { answer: 'no', because: 'x' } }] })).toThrow(
      /assets\[0\]\.reachable says no, but the asset crosses port 443/,
    );
    expect(() => deviceFrom({ ...DEVICE, interfaces: [{ port: 443, carriesAssets: false }] })).toThrow(/carriesAssets says no, but owner-key cross port 443/);
    expect(() => deviceFrom({ ...DEVICE, interfaces: [{ port: 8443 }] })).toThrow(/interfaces\[0\]\.port port 8443 is not under services/);
    const noLock: DeviceFileInput = { ...DEVICE, auth: [{ port: 443, protocol: 'https', scheme: 'basic', bruteForce: 'none' }] };
    expect(() => deviceFrom({ ...noLock, mechanisms: [{ id: 'm', kind: 'authentication', port: 443, bruteForce: true }] })).toThrow(
      /mechanisms\[0\]\.bruteForce says yes, but auth: declares bruteForce: none/,
    );
  });
  it('answers files: a TODO justification, two answers that disagree, a requirement no catalog has are refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-answers-'));
    const file = path.join(dir, 'a.yaml');
    const one = (over = '') => `  - { requirement: ACM-1, target: owner-key, node: DN-2, answer: no, justification: "section 3"${over} }`;
    writeFileSync(file, `decisions:\n  - { requirement: ACM-1, target: owner-key, node: DN-2, answer: no, justification: "TODO ask the vendor" }\n`);
    expect(() => loadReviewFile(file)).toThrow(/justification is still a placeholder/);
    writeFileSync(file, `decisions:\n${one()}\n${one().replace('answer: no', 'answer: yes')}\n`);
    expect(() => loadReviewFile(file)).toThrow(/decisions\[1\] answers ACM-1 DN-2 for owner-key yes, decisions\[0\] no: keep one/);
    writeFileSync(file, `decisions:\n${one()}\n${one()}\n`);
    expect(loadReviewFile(file).decisions.length).toBe(2);
    const typo = [{ ...decision('DN-1', 'yes'), requirement: 'ACM1', target: 'owner-key' }];
    expect(() => checkDecisions(parts[1], typo, deviceFrom(DEVICE), 'a.yaml', new Set(['ACM-1']))).toThrow(
      /"ACM1" is a requirement of no catalog with decision trees/,
    );
  });
  it('a tree that differs between parts ignores a decision that does not name its part, and the file is refused', () => {
    const scm1 = parts[3].requirements.find((r) => r.id === 'SCM-1')!;
    const fin: DeviceFileInput = { ...DEVICE, assets: [{ id: 'wallet', kind: 'financial', communicated: [443] }] };
    const d = [{ ...decision('DN-2', 'yes'), requirement: 'SCM-1', target: 'wallet' }];
    expect(() => checkDecisions(parts[3], d, deviceFrom(fin), 'a.yaml')).toThrow(/profile is needed: the SCM-1 tree differs between the parts/);
    const t = treeTargets(scm1.tree!, deviceFrom(fin));
    const a = walkTree(
      'en-18031-3',
      { ...scm1, tree: scm1.tree! },
      t.find((x) => x.id === 'wallet')!,
      deviceFrom(fin),
      checksSay({}),
      d,
    );
    expect(a.path.at(-1)).toMatchObject({ node: 'DN-2', answer: 'unknown' });
  });
  it('a check that tests service by service passes only the interfaces it tested', () => {
    const rlm = parts[1].requirements.find((r) => r.id === 'RLM-1')!;
    const dev = deviceFrom({
      ...DEVICE,
      interfaces: [
        { port: 443, resilient: true },
        { port: 1883, resilient: true },
      ],
    });
    const check = (id: string) =>
      id === 'resilience.network-load'
        ? { verdict: 'pass' as Verdict, rationale: 'loaded 443', ports: { 'tcp/443': 'pass' as Verdict } }
        : { verdict: 'pass' as Verdict, rationale: 'ok' };
    const by = Object.fromEntries(
      treeTargets(rlm.tree!, dev).map((t) => [t.id, walkTree('en-18031-1', { ...rlm, tree: rlm.tree! }, t, dev, check, []).verdict]),
    );
    expect(by).toEqual({ 'tcp/443': 'pass', 'tcp/1883': 'not-tested' });
  });
});
