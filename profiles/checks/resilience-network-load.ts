/**
 * resilience.network-load — EN 18031-1 RLM-1 (opt-in): after a bounded burst
 * of connections and malformed requests on each declared service, every
 * declared service answers again and keeps answering. Fails when a service
 * does not come back. A burst that was not delivered at half the declared
 * rate, or a service with no answer before the burst (no control), is
 * inconclusive: the device was not shown to withstand the declared load.
 */
import { basis, factsOf } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, Finding } from '../../harness/types';
import { LoadBurstFact } from '../../probes/network-load';

export const networkLoadCheck: Check = {
  id: 'resilience.network-load',
  title: 'Services come back after a bounded connection and malformed-request burst',
  failsWhen: 'a declared service does not answer again (and keep answering) within the recovery time after a burst at the declared rate',
  probes: ['network-load'],
  implemented: true,
  fix: 'Cap concurrent connections per service, drop malformed requests early, and restart a failed service (a watchdog) so it returns to its normal state.',
  judge(input) {
    const g = gate(input, 'network-load');
    if (!g.ok) return g.judgement;
    const bursts = factsOf(g.result, LoadBurstFact);
    if (!bursts.length) return { verdict: 'inconclusive', rationale: 'the load probe recorded no burst', findings: [] };
    const findings: Finding[] = [];
    const down = bursts.filter((b) => b.recovered === false);
    for (const b of down)
      findings.push({
        severity: 'high',
        port: b.port,
        protocol: b.protocol,
        message: `after ${b.attempted} connections at ${b.deliveredRate.toFixed(1)}/s on port ${b.port}: ${b.services
          .map((s) => `${s.port} ${s.detail}`)
          .join('; ')}`,
      });
    if (down.length)
      return { verdict: 'fail', rationale: `the device did not recover after the burst on port ${down.map((b) => b.port).join(', ')}`, findings };
    const noControl = bursts.filter((b) => !b.baseline.answered);
    const weak = bursts.filter((b) => b.baseline.answered && b.deliveredRate < b.declaredRate / 2);
    const unsure = [
      ...noControl.map((b) => `port ${b.port} did not answer before the burst (${b.baseline.detail}), so its recovery says nothing`),
      ...weak.map((b) => `port ${b.port} got ${b.deliveredRate.toFixed(1)} connections/s of the declared ${b.declaredRate}`),
    ];
    if (unsure.length) return { verdict: 'inconclusive', rationale: unsure.join('; '), findings };
    return {
      verdict: 'pass',
      rationale: bursts
        .map(
          (b) =>
            `port ${b.port}: ${b.attempted} connections at ${b.deliveredRate.toFixed(1)}/s, every service back after ${((b.recoveredAfterMs ?? 0) / 1000).toFixed(1)} s`,
        )
        .join('; '),
      findings,
      basis: basis(['network-load', LoadBurstFact]),
    };
  },
};
