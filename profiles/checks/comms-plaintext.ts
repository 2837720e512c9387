/** comms.plaintext — EN 303 645 5.5-1, 5.5-6, 5.8-1/2: no credentials or sessions cross the network in clear. */
import { TcpScanFact } from '../../probes/ports';
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { discoveryFailure } from './discovery';
import { factOf, factsOf, basis, type FactKind } from '../../harness/facts';
import { PlaintextScanFact, PlaintextServiceFact } from '../../probes/plaintext';

export const plaintextCheck: Check = {
  id: 'comms.plaintext',
  title: 'No credentials or personal data in clear text',
  failsWhen: 'credentials or personal data can cross the network in clear text',
  probes: ['plaintext'],
  implemented: true,
  fix: 'Serve logins and administration only over TLS (HTTPS, MQTT over TLS, SSH); let plain HTTP only redirect to HTTPS; remove telnet and FTP.',
  judge(input) {
    const g = gate(input, 'plaintext');
    if (!g.ok) return g.judgement;
    const facts = factsOf(g.result, PlaintextServiceFact);
    const findings: Finding[] = facts.map((f) => ({
      severity: f.carries === 'credentials' || f.carries === 'session' ? 'high' : f.carries === 'content' || f.carries === 'unknown' ? 'low' : 'info',
      port: f.port,
      protocol: f.protocol,
      message: `${f.protocol} ${f.port}${f.path ? ` ${f.path}` : ''}: ${f.how}`,
    }));
    const bad = facts.filter((f) => f.carries === 'credentials' || f.carries === 'session');
    if (bad.length)
      return {
        verdict: 'fail',
        rationale: `credentials or sessions in clear on ${[...new Set(bad.map((f) => `${f.protocol} ${f.port}`))].join(', ')}`,
        findings,
      };
    const scanned = factOf(g.result, PlaintextScanFact)?.open ?? [];
    const blind = discoveryFailure(input);
    if (blind) return { verdict: 'inconclusive', rationale: `nothing in clear was seen, but ${blind}`, findings };
    if (scanned.length === 0) return { verdict: 'inconclusive', rationale: 'no open TCP port was found to look at', findings };
    const unknown = facts.filter((f) => f.carries === 'unknown');
    if (unknown.length)
      return {
        verdict: 'inconclusive',
        rationale: `nothing in clear was seen, but ${unknown.map((f) => `port ${f.port}`).join(', ')} could not be told apart (${unknown[0].how})`,
        findings,
      };
    return {
      verdict: 'pass',
      rationale: `no login or session in clear on the ${scanned.length} open TCP ports (${scanned.join(', ')})`,
      findings,
      basis: basis(
        ['tcp-ports', TcpScanFact],
        ['plaintext', PlaintextScanFact],
        ...(facts.length ? [['plaintext', PlaintextServiceFact] as [string, FactKind]] : []),
      ),
    };
  },
};
