/**
 * network-load (EN 18031 RLM-1), opt-in: for each declared TCP service in
 * turn, a burst of new connections at the declared rate for the declared
 * seconds, each also sending a malformed request; then every loaded service
 * must answer again, and keep answering for `stableSeconds`, within
 * `recoverySeconds`. Bounded: at most rate × seconds connections per burst,
 * all through the connector (the scope guard, the connection cap).
 *
 * What "answers" means is the protocol's own first exchange (an SSH banner,
 * an HTTP status line, a TLS handshake, an MQTT CONNACK; a bare accept for
 * the rest). A service that did not answer before the burst has no control
 * and gives no recovery fact (unknown, not recovered). A burst that could not
 * be delivered at half the declared rate is recorded as such: the device did
 * not withstand what was declared, it withstood less.
 */
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type net from 'node:net';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import type { DeviceFile, ServiceDecl } from '../harness/device-file/schema';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { sleepUnlessAborted } from './util/sleep';

const ANSWER_MS = 3000;

export const LoadBurstFact = defineFact(
  'load-burst',
  z.object({
    port: z.number().int(),
    protocol: z.string(),
    /** The service answered before the burst (the control): without it, recovery says nothing. */
    baseline: z.object({ answered: z.boolean(), detail: z.string() }),
    declaredRate: z.number(),
    seconds: z.number(),
    attempted: z.number().int(),
    connected: z.number().int(),
    failed: z.number().int(),
    /** Connections per second actually opened. */
    deliveredRate: z.number(),
    /** Every loaded service answered again and kept answering (null: not asked, the baseline failed). */
    recovered: z.boolean().nullable(),
    recoveredAfterMs: z.number().optional(),
    /** Per declared service checked after the burst: answered again and kept answering. */
    services: z.array(z.object({ port: z.number().int(), protocol: z.string(), recovered: z.boolean(), detail: z.string() })),
  }),
  (b) =>
    !b.baseline.answered
      ? `port ${b.port}: the service did not answer before the burst (${b.baseline.detail})`
      : b.recovered === null
        ? `port ${b.port}: recovery not checked`
        : b.deliveredRate < b.declaredRate / 2
          ? `port ${b.port}: delivered ${b.deliveredRate.toFixed(1)} connections/s of the declared ${b.declaredRate}`
          : null,
);

/** The declared TCP services a burst goes to. */
export function loadTargets(device: DeviceFile): ServiceDecl[] {
  const tcp = device.services.filter((s) => s.transport === 'tcp');
  const ports = device.resilience?.ports;
  return ports ? tcp.filter((s) => ports.includes(s.port)) : tcp;
}

const TLS_PROTOCOLS = new Set(['https', 'mqtts', 'tls', 'ftps']);
// MQTT 3.1.1 CONNECT, clean session, client id "sb": the broker answers CONNACK, accepted or refused.
const MQTT_CONNECT = Buffer.from([0x10, 0x0e, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x02, 0x73, 0x62]);

/** The first exchange of the service's protocol, within ANSWER_MS. */
async function answers(ctx: ProbeContext, s: ServiceDecl): Promise<{ answered: boolean; detail: string }> {
  let sock: net.Socket | undefined;
  try {
    sock = await ctx.connector.tcp(s.port, { signal: ctx.signal });
    const raw = sock;
    let stream: net.Socket | tls.TLSSocket = raw;
    if (TLS_PROTOCOLS.has(s.protocol)) {
      stream = await new Promise<tls.TLSSocket>((resolve, reject) => {
        const t = tls.connect({ socket: raw, rejectUnauthorized: false });
        const timer = setTimeout(() => reject(new Error('no TLS handshake')), ANSWER_MS);
        t.once('secureConnect', () => (clearTimeout(timer), resolve(t)));
        t.once('error', (e) => (clearTimeout(timer), reject(e)));
      });
      // A handshake is the TLS layer's answer; HTTP and MQTT behind it must answer too.
      if (s.protocol !== 'https' && s.protocol !== 'mqtts') return { answered: true, detail: 'TLS handshake completed' };
    }
    const speaksFirst = s.protocol === 'ssh' || s.protocol === 'ftp';
    const send =
      s.protocol === 'http' || s.protocol === 'https'
        ? Buffer.from('GET / HTTP/1.0\r\nHost: device\r\n\r\n')
        : s.protocol === 'mqtt' || s.protocol === 'mqtts'
          ? MQTT_CONNECT
          : undefined;
    if (!speaksFirst && !send) return { answered: true, detail: 'accepted a connection' };
    const first = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_MS} ms`)), ANSWER_MS);
      stream.once('data', (d: Buffer) => (clearTimeout(timer), resolve(d)));
      stream.once('close', () => (clearTimeout(timer), reject(new Error('closed without an answer'))));
      stream.once('error', (e) => (clearTimeout(timer), reject(e)));
      if (send) stream.write(send);
    });
    const ok =
      s.protocol === 'ssh'
        ? first.toString('latin1').startsWith('SSH-')
        : s.protocol === 'http' || s.protocol === 'https'
          ? first.toString('latin1').startsWith('HTTP/')
          : s.protocol === 'mqtt' || s.protocol === 'mqtts'
            ? first[0] === 0x20
            : first.length > 0;
    return {
      answered: ok,
      detail: ok
        ? `answered (${first
            .subarray(0, 24)
            .toString('latin1')
            .replace(/[^\x20-\x7e]/g, '.')})`
        : 'answered something else',
    };
  } catch (err) {
    return { answered: false, detail: (err as Error).message };
  } finally {
    sock?.destroy();
  }
}

/** One connection of the burst: connect, send junk when asked, close soon after. */
async function oneHit(ctx: ProbeContext, port: number, malformed: boolean): Promise<boolean> {
  let sock: net.Socket | undefined;
  try {
    sock = await ctx.connector.tcp(port, { signal: ctx.signal, timeoutMs: 2000 });
    if (malformed) sock.write(Buffer.concat([randomBytes(64 + Math.floor(Math.random() * 448)), Buffer.from(`${'A'.repeat(4096)}\r\n\r\n`)]));
    await sleepUnlessAborted(ctx.signal, 100);
    return true;
  } catch {
    return false;
  } finally {
    sock?.destroy();
  }
}

async function burst(ctx: ProbeContext, port: number, rate: number, seconds: number, malformed: boolean) {
  const started = Date.now();
  const hits: Array<Promise<boolean>> = [];
  // At most rate × seconds connections, started on a fixed schedule; the connector caps how many are open at once.
  for (let i = 0; i < rate * seconds && !ctx.signal.aborted; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleepUnlessAborted(ctx.signal, due - Date.now());
    hits.push(oneHit(ctx, port, malformed));
  }
  const results = await Promise.all(hits);
  const elapsed = Math.max(seconds * 1000, Date.now() - started);
  const connected = results.filter(Boolean).length;
  return { attempted: results.length, connected, failed: results.length - connected, deliveredRate: (results.length * 1000) / elapsed };
}

/** Polls every service once a second until all answered for stableSeconds in a row, or the recovery time is up. */
async function recovery(ctx: ProbeContext, services: ServiceDecl[], recoveryMs: number, stableMs: number) {
  const started = Date.now();
  let streak: number | undefined;
  const last = new Map<number, { answered: boolean; detail: string }>();
  while (!ctx.signal.aborted && Date.now() - started <= recoveryMs + stableMs) {
    const round = await Promise.all(services.map(async (s) => [s.port, await answers(ctx, s)] as const));
    for (const [p, a] of round) last.set(p, a);
    const all = round.every(([, a]) => a.answered);
    if (all) streak ??= Date.now();
    else streak = undefined;
    if (streak !== undefined && Date.now() - streak >= stableMs) return { recovered: true, after: streak - started, last };
    // Once the recovery time is up, only a streak already under way may still complete.
    if (streak === undefined && Date.now() - started > recoveryMs) break;
    await sleepUnlessAborted(ctx.signal, 1000);
  }
  return { recovered: false, after: undefined, last };
}

export const networkLoadProbe: Probe = {
  id: 'network-load',
  title: 'Bounded connection and malformed-request burst per service, then recovery of every declared service (opt-in)',
  needs: ['host'],
  facts: [LoadBurstFact],
  disruptive: 'load',
  clauses: ['EN 18031-1 RLM-1', 'EN 303 645 5.9-1'],
  skipReason(device) {
    if (!device.resilience?.enabled) return 'the load test is opt-in: resilience: { enabled: true, rate, seconds } in the device file';
    if (!loadTargets(device).length) return 'no declared TCP service to load';
    return null;
  },
  timeoutMs(device) {
    const r = device.resilience;
    if (!r) return 60_000;
    return loadTargets(device).length * (r.seconds + r.recoverySeconds + r.stableSeconds + 2 * (ANSWER_MS / 1000) + 15) * 1000;
  },
  async run(ctx) {
    const r = ctx.device.resilience!;
    const services = loadTargets(ctx.device);
    const observations: Observation[] = [];
    for (const s of services) {
      if (ctx.signal.aborted) break;
      const baseline = await answers(ctx, s);
      const base = { port: s.port, protocol: s.protocol, baseline, declaredRate: r.rate, seconds: r.seconds };
      if (!baseline.answered) {
        const data = { ...base, attempted: 0, connected: 0, failed: 0, deliveredRate: 0, recovered: null, services: [] };
        observations.push({
          kind: LoadBurstFact.kind,
          port: s.port,
          summary: `port ${s.port}: no answer before the burst (${baseline.detail}); not loaded`,
          data,
        });
        continue;
      }
      ctx.progress(`load: ${r.rate} connections/s for ${r.seconds} s on port ${s.port}`);
      const b = await burst(ctx, s.port, r.rate, r.seconds, r.malformed);
      const rec = await recovery(ctx, services, r.recoverySeconds * 1000, r.stableSeconds * 1000);
      const after = services.map((x) => {
        const a = rec.last.get(x.port);
        return { port: x.port, protocol: x.protocol, recovered: rec.recovered, detail: a?.detail ?? 'not asked' };
      });
      const data = { ...base, ...b, recovered: rec.recovered, ...(rec.after !== undefined ? { recoveredAfterMs: rec.after } : {}), services: after };
      const down = after.filter((x) => !rec.last.get(x.port)?.answered).map((x) => x.port);
      observations.push({
        kind: LoadBurstFact.kind,
        port: s.port,
        summary: `port ${s.port}: ${b.attempted} connections (${b.connected} accepted) at ${b.deliveredRate.toFixed(1)}/s; ${
          rec.recovered
            ? `every service answered again after ${((rec.after ?? 0) / 1000).toFixed(1)} s and kept answering`
            : `not recovered within ${r.recoverySeconds} s (${down.length ? `no answer on ${down.join(', ')}` : 'answers came and went'})`
        }`,
        data,
      });
      // A device that did not come back is not loaded again: the next burst would say nothing new.
      if (!rec.recovered) break;
    }
    return { observations };
  },
};
