/** auth.default-credentials — EN 303 645 5.1-1, JC-STAR S1.1-02, PSTI 1: no service accepts a known default credential. */
import { TcpScanFact } from '../../probes/ports';
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { discoveryFailure } from './discovery';
import { factsOf, basis } from '../../harness/facts';
import { LoginAttemptsFact, type LoginAttempts } from '../../probes/credentials';

type Attempts = LoginAttempts;

const where = (a: Attempts): string => `${a.protocol} on ${a.port}${a.path ? ` ${a.path}` : ''}`;

export const defaultCredentialsCheck: Check = {
  id: 'auth.default-credentials',
  title: 'No service accepts a known default or weak credential',
  failsWhen: 'any service accepts a known default/weak credential',
  probes: ['credentials'],
  implemented: true,
  fix: 'Ship a password unique per device (not derived from the serial or MAC) or make the user set one before the service is usable; remove vendor debug accounts.',
  judge(input) {
    const g = gate(input, 'credentials');
    if (!g.ok) return g.judgement;
    const obs = g.result.observations;
    const attempts = factsOf(g.result, LoginAttemptsFact);
    const findings: Finding[] = [];
    for (const a of attempts) {
      if (a.stopReason === 'accepts-anything') {
        findings.push({
          severity: 'high',
          port: a.port,
          protocol: a.protocol,
          message: `${where(a)} accepted a random username and password, so it accepts every default credential`,
        });
      }
      for (const acc of a.accepted) {
        findings.push({
          severity: 'high',
          port: a.port,
          protocol: a.protocol,
          message: `${where(a)} accepted username "${acc.username}" with password ${acc.password} — matched the ${acc.list} list entry ${acc.entry}${acc.source ? ` (${acc.source.replace(/:.*$/, '')})` : ''}`,
        });
      }
    }
    const gaps = obs.filter((o) => o.kind === 'login-not-covered' || o.kind === 'login-unreachable' || o.kind === 'login-baseline');
    for (const o of gaps) findings.push({ severity: 'info', port: o.port, protocol: o.protocol, message: o.summary });
    const failed = new Set(findings.filter((f) => f.severity === 'high').map((f) => `${f.protocol} ${f.port}`));
    if (failed.size > 0) return { verdict: 'fail', rationale: `${failed.size} service(s) accepted a default credential: ${[...failed].join(', ')}`, findings };

    for (const a of attempts.filter((x) => x.stopReason === 'no-password-login')) {
      findings.push({ severity: 'info', port: a.port, protocol: a.protocol, message: `${where(a)}: ${a.detail ?? 'no password login offered'}` });
    }
    const partial = attempts.filter((a) => !a.complete);
    for (const a of partial) {
      findings.push({
        severity: 'info',
        port: a.port,
        protocol: a.protocol,
        message: `${where(a)}: tried ${a.tried} of ${a.listSize} (${a.stopReason}${a.detail ? `; ${a.detail}` : ''}${a.lastError ? `; last error: ${a.lastError}` : ''})`,
      });
    }
    if (attempts.length === 0 && gaps.length === 0) {
      const blind = discoveryFailure(input);
      if (blind) return { verdict: 'inconclusive', rationale: `no login was found to test, and ${blind}`, findings };
      return {
        verdict: 'not-applicable',
        rationale: 'no password login (SSH, telnet, HTTP Basic, MQTT) among the declared or discovered services',
        findings,
        basis: basis(['tcp-ports', TcpScanFact]),
      };
    }
    if (partial.length > 0 || gaps.length > 0) {
      const parts = [...partial.map((a) => `${a.protocol} ${a.port} tried ${a.tried}/${a.listSize} (${a.stopReason})`), ...gaps.map((o) => o.summary)];
      return { verdict: 'inconclusive', rationale: `no default credential accepted, but not every login was fully tested: ${parts.join('; ')}`, findings };
    }
    const settled = attempts.map((a) => (a.stopReason === 'no-password-login' ? `${a.protocol} ${a.port} (no password login)` : `${a.protocol} ${a.port}`));
    return {
      verdict: 'pass',
      rationale: `all ${attempts[0].listSize} dictionary entries refused or impossible on ${settled.join(', ')}`,
      findings,
      basis: basis(['tcp-ports', TcpScanFact], ['credentials', LoginAttemptsFact]),
    };
  },
};
