/** auth.brute-force — EN 303 645 5.1-5, JC-STAR S1.1-04 (tested on the device): brute force over the network is impractical. */
import { TcpScanFact } from '../../probes/ports';
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { discoveryFailure } from './discovery';
import { factsOf, basis } from '../../harness/facts';
import { BruteForceFactKind, NoPasswordLoginFact } from '../../probes/brute-force';

// A password with this much entropy cannot be guessed over a network even at full speed (NIST SP 800-63B §5.2.2 spirit).
const HIGH_ENTROPY_BITS = 64;

export const bruteForceCheck: Check = {
  id: 'auth.brute-force',
  title: 'Brute force over the network is made impractical',
  failsWhen: 'repeated wrong passwords meet no lockout, delay or rate limit',
  probes: ['brute-force'],
  implemented: true,
  fix: 'Lock the account or slow responses down after a few consecutive failures (and tell the user), or make the authentication value unguessable (high-entropy, unique per device).',
  judge(input) {
    const g = gate(input, 'brute-force');
    if (!g.ok) return g.judgement;
    const facts = factsOf(g.result, BruteForceFactKind);
    const keyOnly = g.result.observations.filter((o) => o.kind === 'no-password-login');
    const findings: Finding[] = [];
    const failed: string[] = [];
    const unsure: string[] = [];
    for (const f of facts) {
      const where = `${f.protocol} ${f.port}${f.path ? ` ${f.path}` : ''}`;
      if (f.mitigation === 'none') {
        if (f.claim === 'high-entropy') {
          // A claim about the factory password (label, manual, declared defaults), never the lab's own.
          if (f.factoryPasswordBits === undefined) {
            unsure.push(
              `${where}: no rate limit, and the high-entropy claim cannot be judged: declare the unit's factory password (auth[].factoryPassword, from its label or manual)`,
            );
            continue;
          }
          if (!f.factoryPasswordPublic && f.factoryPasswordBits >= HIGH_ENTROPY_BITS) {
            findings.push({
              severity: 'info',
              port: f.port,
              protocol: f.protocol,
              message: `${where}: no rate limit, but the declared high-entropy factory password holds (≈ ${f.factoryPasswordBits} bits, from ${f.factoryPasswordFrom})`,
            });
            continue;
          }
          findings.push({
            severity: 'high',
            port: f.port,
            protocol: f.protocol,
            message: `${where}: claimed high-entropy, but the factory password ${f.factoryPasswordPublic ? 'is on a public default list' : `has only ≈ ${f.factoryPasswordBits} bits`}`,
          });
        }
        failed.push(where);
        findings.push({
          severity: 'high',
          port: f.port,
          protocol: f.protocol,
          message: `${where}: ${f.detail}${f.claim && f.claim !== 'none' ? ` (the device file claims ${f.claim})` : ''}`,
        });
      } else if (f.mitigation === 'unknown') {
        unsure.push(`${where}: ${f.detail}`);
        if (f.fellOver)
          findings.push({
            severity: 'medium',
            port: f.port,
            protocol: f.protocol,
            message: `${where}: the service stopped answering normally under repeated logins`,
          });
      } else {
        findings.push({ severity: 'info', port: f.port, protocol: f.protocol, message: `${where}: ${f.mitigation} — ${f.detail}` });
        if ((f.mitigation === 'lockout' || f.mitigation === 'rate-limit') && f.recoveredAfterS === undefined)
          unsure.push(`${where}: ${f.mitigation === 'lockout' ? 'locked out' : 'limited'} but the lab credential did not work again within the wait`);
      }
    }
    for (const o of keyOnly) findings.push({ severity: 'info', port: o.port, protocol: o.protocol, message: `${o.summary}` });
    if (failed.length) return { verdict: 'fail', rationale: `no lockout, rate limit or growing delay on ${failed.join(', ')}`, findings };
    if (facts.length === 0) {
      const blind = discoveryFailure(input);
      if (blind) return { verdict: 'inconclusive', rationale: `no password login found, and ${blind}`, findings };
      if (keyOnly.length)
        return {
          verdict: 'not-applicable',
          rationale: `no password login over the network: ${keyOnly.map((o) => o.summary).join('; ')}`,
          findings,
          basis: basis(['tcp-ports', TcpScanFact], ['brute-force', NoPasswordLoginFact]),
        };
      return { verdict: 'inconclusive', rationale: 'no password login was found to test', findings };
    }
    if (unsure.length) return { verdict: 'inconclusive', rationale: unsure.join('; '), findings };
    return {
      verdict: 'pass',
      rationale: `brute force is impractical on ${facts
        .map((f) => `${f.protocol} ${f.port} (${f.mitigation === 'none' ? 'high-entropy' : f.mitigation})`)
        .join(', ')}`,
      findings,
      basis: basis(['brute-force', BruteForceFactKind]),
    };
  },
};
