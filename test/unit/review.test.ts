/**
 * Evidence of kind declaration: reviewer answers and routes sit beside the
 * device evidence of a requirement row, each with its reference, and never
 * outrank a failed check.
 */
import type { DeviceFileData } from '../../harness/device-file/schema';
import { judgeRequirements } from '../../harness/judge';
import { loadProfile } from '../../harness/profile';
import { checkAnswers, rowVerdict, type Declaration, type ReviewAnswer } from '../../harness/review';
import type { CheckResult } from '../../harness/types';
import type { Verdict } from '../../harness/verdict';

const jc = loadProfile('jc-star-1');
const answer = (requirement: string, result: ReviewAnswer['result'], over: Partial<ReviewAnswer> = {}): ReviewAnswer => ({
  profile: 'jc-star-1',
  requirement,
  result,
  reference: 'security whitepaper v2 §3',
  ...over,
});
const checks = (v: Record<string, Verdict>): Map<string, CheckResult> =>
  new Map(Object.entries(v).map(([id, verdict]) => [id, { id, title: id, verdict, rationale: verdict, findings: [], evidence: [] }]));
const row = (id: string, results: Map<string, CheckResult>, answers: ReviewAnswer[] = [], device: object = {}) =>
  judgeRequirements(jc, results, device as DeviceFileData, answers).find((r) => r.id === id)!;

describe('rowVerdict', () => {
  const reviewer = (result: Declaration['result']): Declaration => ({ kind: 'declaration', source: 'reviewer', result, reference: 'doc' });
  const route: Declaration = { kind: 'declaration', source: 'route', result: 'met', reference: 'PSTI-123', route: 'uk-psti' };
  it.each<[string, Verdict[], Declaration[], Verdict]>([
    ['no declaration: the worst of the checks, as before', ['pass', 'inconclusive'], [], 'inconclusive'],
    ['no check, no declaration: not tested', [], [], 'not-tested'],
    ['a document row met by its reviewer', [], [reviewer('met')], 'pass'],
    ['a document row the reviewer found not met', [], [reviewer('not-met')], 'fail'],
    ['a reviewer not-applicable', [], [reviewer('not-applicable')], 'not-applicable'],
    ['met by the reviewer, failed by the device: fails', ['fail'], [reviewer('met')], 'fail'],
    ['met by the reviewer, device inconclusive: stays inconclusive', ['inconclusive'], [reviewer('met')], 'inconclusive'],
    ['two reviewers disagree: the not-met one wins', [], [reviewer('met'), reviewer('not-met')], 'fail'],
    ['a route deems the row met', [], [route], 'pass'],
    ['a route over an inconclusive device test: met by the route', ['inconclusive'], [route], 'pass'],
    ['a route never outranks a failed check', ['fail'], [route], 'fail'],
    ['nor a reviewer who found it not met', [], [route, reviewer('not-met')], 'fail'],
  ])('%s', (_name, v, d, expected) => expect(rowVerdict(v, d)).toBe(expected));
});

describe('judgeRequirements with declarations', () => {
  it('a reviewer answer shows on its row with its reference, and the device verdict beside it', () => {
    const r = row('S1.1-02', checks({ 'auth.default-credentials': 'fail' }), [answer('S1.1-02', 'met', { reviewer: 'A. Sato', date: '2026-11-30' })]);
    expect(r.verdict).toBe('fail');
    expect(r.deviceVerdict).toBe('fail');
    expect(r.declarations).toEqual([
      {
        kind: 'declaration',
        source: 'reviewer',
        result: 'met',
        reference: 'security whitepaper v2 §3',
        reviewer: 'A. Sato',
        date: '2026-11-30',
        note: undefined,
      },
    ]);
    expect(r.rationale).toMatch(/auth.default-credentials fail; document review: met \(security whitepaper v2 §3, A. Sato, 2026-11-30\)/);
  });
  it('a document row with no check is met only by an answer', () => {
    expect(row('S1.1-05', checks({})).verdict).toBe('not-tested');
    const r = row('S1.1-05', checks({}), [answer('S1.1-05', 'met')]);
    expect(r).toMatchObject({ verdict: 'pass', deviceVerdict: undefined });
  });
  it('answers for another profile, or another row, do not count', () => {
    expect(row('S1.1-05', checks({}), [answer('S1.1-05', 'met', { profile: 'uk-psti' }), answer('S1.1-16', 'met')]).verdict).toBe('not-tested');
  });
  it('the PSTI route: the three rows it covers are met when the device file carries the statement, and only then', () => {
    const device = { documentation: { pstiStatement: 'SoC-2026-0042' } };
    const results = checks({ 'auth.default-credentials': 'inconclusive' });
    for (const id of ['S1.1-02', 'S1.1-05', 'S1.1-16']) {
      const r = row(id, results, [], device);
      expect(r.verdict).toBe('pass');
      expect(r.declarations).toEqual([expect.objectContaining({ source: 'route', route: 'uk-psti', reference: 'SoC-2026-0042' })]);
    }
    // The device test still shows beside the route.
    expect(row('S1.1-02', results, [], device).deviceVerdict).toBe('inconclusive');
    // Not a row the route covers.
    expect(row('S1.1-03', checks({}), [], device).declarations).toBeUndefined();
    // No statement (or an empty one): no route.
    expect(row('S1.1-05', checks({}), [], { documentation: { pstiStatement: '  ' } }).verdict).toBe('not-tested');
    // A failed device test fails the row, route or not.
    expect(row('S1.1-02', checks({ 'auth.default-credentials': 'fail' }), [], device).verdict).toBe('fail');
  });
  it('an answer naming a requirement the profile does not have is refused (a typo must not vanish)', () => {
    expect(() => checkAnswers(jc, [answer('S1.1-5', 'met')], 'answers.yaml')).toThrow(/answers.yaml: "S1.1-5" is not a requirement of jc-star-1/);
    expect(() => checkAnswers(jc, [answer('S1.1-5', 'met', { profile: 'uk-psti' })], 'answers.yaml')).not.toThrow();
  });
});
