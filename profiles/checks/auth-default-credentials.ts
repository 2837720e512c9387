/** auth.default-credentials — EN 303 645 5.1-1, JC-STAR S1.1-02, PSTI 1: no service accepts a known default credential. */
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';

interface Attempts {
  protocol: string;
  port: number;
  path?: string;
  listSize: number;
  tried: number;
  errors: number;
  lastError?: string;
  accepted: Array<{ list: string; entry: number; username: string; password: string }>;
  complete: boolean;
  stopReason: string;
}

export const defaultCredentialsCheck: Check = {
  id: 'auth.default-credentials',
  title: 'No service accepts a known default or weak credential',
  failsWhen: 'any service accepts a known default/weak credential',
  probes: ['credentials'],
  implemented: true,
  fix: 'Ship a password unique per device (not derived from the serial or MAC) or force the user to set one before the service is usable.',
  judge(input) {
    const g = gate(input, 'credentials');
    if (!g.ok) return g.judgement;
    const obs = g.result.observations;
    const attempts = obs.filter((o) => o.kind === 'login-attempts').map((o) => o.data as unknown as Attempts);
    const findings: Finding[] = [];
    for (const a of attempts) {
      for (const acc of a.accepted) {
        findings.push({
          severity: 'high',
          port: a.port,
          protocol: a.protocol,
          message: `${a.protocol} on ${a.port}${a.path ? ` ${a.path}` : ''} accepted username "${acc.username}" with password ${acc.password} — matched the ${acc.list} list entry ${acc.entry}`,
        });
      }
    }
    const gaps = obs.filter((o) => o.kind === 'login-not-covered' || o.kind === 'login-unreachable' || o.kind === 'login-baseline');
    for (const o of gaps) findings.push({ severity: 'info', port: o.port, protocol: o.protocol, message: o.summary });
    if (findings.some((f) => f.severity === 'high')) {
      return { verdict: 'fail', rationale: `${findings.filter((f) => f.severity === 'high').length} service(s) accepted a default credential`, findings };
    }
    const partial = attempts.filter((a) => !a.complete);
    for (const a of partial) {
      findings.push({ severity: 'info', port: a.port, protocol: a.protocol, message: `${a.protocol} ${a.port}: tried ${a.tried} of ${a.listSize} (${a.stopReason}${a.lastError ? `; last error: ${a.lastError}` : ''})` });
    }
    if (attempts.length === 0 && gaps.length === 0) {
      const scan = input.result('tcp-ports');
      if (scan?.status !== 'completed') return { verdict: 'inconclusive', rationale: 'no login was found to test and service discovery did not complete', findings };
      return { verdict: 'not-applicable', rationale: 'no password login (SSH, HTTP Basic) among the declared or discovered services', findings };
    }
    if (partial.length > 0 || gaps.length > 0) {
      const parts = [...partial.map((a) => `${a.protocol} ${a.port} tried ${a.tried}/${a.listSize}`), ...gaps.map((o) => o.summary)];
      return { verdict: 'inconclusive', rationale: `no default credential accepted, but not every login was fully tested: ${parts.join('; ')}`, findings };
    }
    return {
      verdict: 'pass',
      rationale: `all ${attempts[0].listSize} Mirai entries refused on ${attempts.map((a) => `${a.protocol} ${a.port}`).join(', ')}`,
      findings,
    };
  },
};
