/**
 * Audit 17: the run summary. A run restricted with --only to one check of the
 * default profile (jc-star-1) tests one requirement row; the rows whose
 * automated checks were not run (S1.1-01, S1.1-02 are assessedBy: document but
 * carry device checks; the ★1 themes row is supplementary) are ignored, so the
 * run says pass / complete / exit 0.
 */
import type { Check, Probe } from '../harness/types';
import { gate } from '../harness/gate';
import { loadProfile } from '../harness/profile';
import { CHECKS } from '../profiles/checks';
import { deviceFrom, minimalDevice } from './helpers/device';
import { runWith, X_FACT } from './helpers/run';

const fakeProbe: Probe = {
  id: 'fake-bf',
  title: 'fake brute force',
  needs: ['host'],
  facts: [X_FACT],
  run: async () => ({ observations: [{ kind: 'x', summary: 'locked after 5', data: { ok: true } }] }),
};
const fakeBruteForce: Check = {
  id: 'auth.brute-force',
  title: 'brute force (fake)',
  failsWhen: 'never',
  probes: ['fake-bf'],
  implemented: true,
  judge(input) {
    const g = gate(input, 'fake-bf');
    if (!g.ok) return g.judgement;
    return { verdict: 'pass', rationale: 'locked', findings: [], basis: [{ probe: 'fake-bf', kind: X_FACT.kind }] };
  },
};

describe('audit17: run summary', () => {
  it('jc-star-1 --only auth.brute-force: one row of device testing done, the automated checks of S1.1-01/S1.1-02 and the ★1 themes untested — must not be a complete pass', async () => {
    const checks = [...CHECKS.values()].filter((c) => c.id !== 'auth.brute-force');
    const { report } = await runWith({
      device: deviceFrom(minimalDevice),
      profile: loadProfile('jc-star-1'),
      probes: [fakeProbe],
      checks: [...checks, fakeBruteForce],
      extra: { only: new Set(['auth.brute-force']) },
    });
    const rows = Object.fromEntries(report.requirements.map((r) => [r.id, r.verdict]));
    expect(rows['S1.1-04']).toBe('pass');
    expect(rows['S1.1-01']).toBe('not-tested'); // auth.unauthenticated-access was not run
    // Right: incomplete, not a pass, exit 3. Wrong (observed): pass, complete, exit 0.
    expect(report.summary.status).toBe('incomplete');
    expect(report.summary.verdict).not.toBe('pass');
    expect(report.summary.exitCode).toBe(3);
  });
});
