/**
 * resilience.network-load — EN 18031-1 RLM-1 (opt-in): after a bounded burst
 * of connections and malformed requests on each declared service, every
 * service that answered before answers again, the same way, keeps answering,
 * and still does once the last burst has settled. Fails when one does not.
 * Inconclusive, never pass, when the burst proves nothing: no answer before
 * it (no control), only a TCP accept to show the service alive (a hung
 * service still gives one), a burst delivered at under half the declared rate
 * (the connection limit leaves no room), or no connection of it accepted.
 * The verdict is also given per port, so a decision tree walked per
 * interface takes only what its port showed.
 */
import { basis, factsOf } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, Finding } from '../../harness/types';
import type { Verdict } from '../../harness/verdict';
import { LoadAfterFact, LoadBurstFact } from '../../probes/network-load';

export const networkLoadCheck: Check = {
  id: 'resilience.network-load',
  title: 'Services come back after a bounded connection and malformed-request burst',
  failsWhen: 'a declared service does not answer again as before (and keep answering) within the recovery time after a burst at the declared rate',
  probes: ['network-load'],
  implemented: true,
  fix: 'Cap concurrent connections per service, drop malformed requests early, and restart a failed service (a watchdog) so it returns to its normal state.',
  judge(input) {
    const g = gate(input, 'network-load');
    if (!g.ok) return g.judgement;
    const bursts = factsOf(g.result, LoadBurstFact);
    const after = factsOf(g.result, LoadAfterFact);
    if (!bursts.length) return { verdict: 'inconclusive', rationale: 'the load probe recorded no burst', findings: [] };
    const ports: Record<string, Verdict> = {};
    const findings: Finding[] = [];
    const down = bursts.filter((b) => b.recovered === false);
    for (const b of down) {
      ports[`tcp/${b.port}`] = 'fail';
      findings.push({
        severity: 'high',
        port: b.port,
        protocol: b.protocol,
        message: `after ${b.attempted} connections at ${b.deliveredRate.toFixed(1)}/s on port ${b.port}: ${b.services.map((s) => `${s.port} ${s.detail}`).join('; ')}`,
      });
    }
    const late = after.flatMap((a) => a.services.filter((s) => !s.answered).map((s) => ({ ...s, waitedMs: a.waitedMs })));
    for (const s of late) {
      ports[`tcp/${s.port}`] = 'fail';
      findings.push({
        severity: 'high',
        port: s.port,
        protocol: s.protocol,
        message: `${s.waitedMs / 1000} s after the last burst, port ${s.port}: ${s.detail}`,
      });
    }
    if (down.length || late.length)
      return {
        verdict: 'fail',
        rationale: down.length
          ? `the device did not recover after the burst on port ${down.map((b) => b.port).join(', ')}`
          : `port ${late.map((s) => s.port).join(', ')} stopped answering after the burst had settled`,
        findings,
        ports,
      };
    const unsure: string[] = [];
    for (const b of bursts) {
      const why = !b.baseline.answered
        ? `port ${b.port} did not answer before the burst (${b.baseline.detail}), so its recovery says nothing`
        : b.baseline.how === 'accept'
          ? `port ${b.port} (${b.protocol}) only showed a TCP accept, which a hung service still gives`
          : b.deliveredRate < b.declaredRate / 2
            ? `port ${b.port} got ${b.deliveredRate.toFixed(1)} connections/s of the declared ${b.declaredRate}${b.skipped ? ` (${b.skipped} skipped: the connection limit had no room)` : ''}`
            : b.connected === 0
              ? `no connection of the burst on port ${b.port} was accepted: the load never reached the service`
              : null;
      ports[`tcp/${b.port}`] = why ? 'inconclusive' : 'pass';
      if (why) unsure.push(why);
    }
    if (!after.length) unsure.push('the services were not asked again once the last burst had settled');
    if (unsure.length) return { verdict: 'inconclusive', rationale: unsure.join('; '), findings, ports };
    return {
      verdict: 'pass',
      rationale: `${bursts
        .map(
          (b) =>
            `port ${b.port}: ${b.attempted} connections at ${b.deliveredRate.toFixed(1)}/s, every service back after ${((b.recoveredAfterMs ?? 0) / 1000).toFixed(1)} s`,
        )
        .join('; ')}; all still answering ${after[0].waitedMs / 1000} s after the last burst`,
      findings,
      ports,
      basis: basis(['network-load', LoadBurstFact], ['network-load', LoadAfterFact]),
    };
  },
};
