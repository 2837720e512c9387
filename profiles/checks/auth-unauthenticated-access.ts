/** auth.unauthenticated-access — EN 303 645 5.5-4/5.5-5, JC-STAR S1.1-01: nothing sensitive is reachable without credentials. */
import { TcpScanFact } from '../../probes/ports';
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { discoveryFailure } from './discovery';
import { factOf, factsOf, basis, type FactKind } from '../../harness/facts';
import { UnauthenticatedFact, UnauthenticatedScanFact, type Exposure } from '../../probes/unauthenticated';

const BAD: ReadonlyArray<Exposure['what']> = ['shell', 'admin', 'config', 'personal-data', 'mqtt-anonymous', 'ftp-anonymous', 'stream'];

export const unauthenticatedAccessCheck: Check = {
  id: 'auth.unauthenticated-access',
  title: 'No shell, admin function, configuration or broker topic without credentials',
  failsWhen: 'a shell, admin function, config or broker topic is reachable with no credentials',
  probes: ['unauthenticated'],
  implemented: true,
  fix: 'Require authentication for every shell, administration and configuration interface and for the MQTT broker (no anonymous clients); never put personal data on unauthenticated status pages.',
  judge(input) {
    const g = gate(input, 'unauthenticated');
    if (!g.ok) return g.judgement;
    const seen = factsOf(g.result, UnauthenticatedFact);
    const findings: Finding[] = seen.map((e) => ({
      severity: BAD.includes(e.what) ? 'high' : 'info',
      port: e.port,
      protocol: e.protocol,
      message: `${e.where}: ${e.detail}`,
    }));
    const bad = seen.filter((e) => BAD.includes(e.what));
    if (bad.length) return { verdict: 'fail', rationale: `reachable without credentials: ${bad.map((e) => `${e.what} on ${e.where}`).join('; ')}`, findings };
    const blind = discoveryFailure(input);
    if (blind) return { verdict: 'inconclusive', rationale: `nothing reachable without credentials was seen, but ${blind}`, findings };
    const unchecked = seen.filter((e) => e.detail.startsWith('could not be checked'));
    if (unchecked.length)
      return { verdict: 'inconclusive', rationale: `nothing open was seen, but ${unchecked.map((e) => e.where).join(', ')} could not be checked`, findings };
    const ports = factOf(g.result, UnauthenticatedScanFact)?.ports ?? [];
    if (ports.length === 0) return { verdict: 'inconclusive', rationale: 'no open service was found to ask', findings };
    return {
      verdict: 'pass',
      rationale: `no shell, admin page, configuration, personal data or broker access without credentials on ${ports.join(', ')}`,
      findings,
      basis: basis(
        ['tcp-ports', TcpScanFact],
        ['unauthenticated', UnauthenticatedScanFact],
        ...(seen.length ? [['unauthenticated', UnauthenticatedFact] as [string, FactKind]] : []),
      ),
    };
  },
};
