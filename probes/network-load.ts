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

const liveness = z.object({
  answered: z.boolean(),
  detail: z.string(),
  /** How it showed it is alive: the protocol's own exchange, a TLS handshake, or only a TCP accept (which a hung service still gives). */
  how: z.enum(['exchange', 'handshake', 'accept']).optional(),
  /** What it answered (an HTTP status class, the SSH banner's protocol), compared before and after. */
  signature: z.string().optional(),
});

export const LoadBurstFact = defineFact(
  'load-burst',
  z.object({
    port: z.number().int(),
    protocol: z.string(),
    /** The service answered before the burst (the control): without it, recovery says nothing. */
    baseline: liveness,
    declaredRate: z.number(),
    seconds: z.number(),
    /** Connections started; a connection the connection limit had no room for is not started (skipped). */
    attempted: z.number().int(),
    skipped: z.number().int().default(0),
    connected: z.number().int(),
    failed: z.number().int(),
    /** Connections per second actually started. */
    deliveredRate: z.number(),
    /** Every loaded service answered again as before and kept answering (null: not asked, the baseline failed). */
    recovered: z.boolean().nullable(),
    recoveredAfterMs: z.number().optional(),
    /** Per service checked after the burst (those that answered before the load): the last answer seen. */
    services: z.array(z.object({ port: z.number().int(), protocol: z.string(), recovered: z.boolean(), detail: z.string() })),
  }),
  (b) =>
    !b.baseline.answered
      ? `port ${b.port}: the service did not answer before the burst (${b.baseline.detail})`
      : b.baseline.how === 'accept'
        ? `port ${b.port}: only a TCP accept shows the service alive, which a hung service still gives`
        : b.recovered === null
          ? `port ${b.port}: recovery not checked`
          : b.deliveredRate < b.declaredRate / 2
            ? `port ${b.port}: delivered ${b.deliveredRate.toFixed(1)} connections/s of the declared ${b.declaredRate}`
            : b.recovered && b.connected === 0
              ? `port ${b.port}: no connection of the burst was accepted, so the load never reached the service`
              : null,
);

/** Every service asked again once the last burst has settled: a service that dies late is not a recovery. */
export const LoadAfterFact = defineFact(
  'load-after',
  z.object({
    waitedMs: z.number(),
    services: z.array(z.object({ port: z.number().int(), protocol: z.string(), answered: z.boolean(), detail: z.string() })),
  }),
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

type Liveness = z.infer<typeof liveness>;

/** What a service is asked to show it is alive: bytes to send (none: it speaks first), and what its answer must start with. */
function exchangeOf(protocol: string): { send?: Buffer; expect: (b: Buffer) => string | null } | undefined {
  const text = (b: Buffer) => b.toString('latin1');
  switch (protocol) {
    case 'ssh':
      return { expect: (b) => (text(b).startsWith('SSH-') ? 'SSH' : null) };
    case 'ftp':
    case 'ftps':
      return { expect: (b) => (/^\d{3}[ -]/.test(text(b)) ? `FTP ${text(b)[0]}xx` : null) };
    case 'telnet':
      // A telnet server opens with option negotiation (IAC) or a banner.
      return { expect: (b) => (b.length > 0 ? 'telnet' : null) };
    case 'http':
    case 'https':
    case 'onvif':
    case 'upnp':
      return {
        send: Buffer.from('GET / HTTP/1.0\r\nHost: device\r\n\r\n'),
        expect: (b) => (/^HTTP\/\d/.test(text(b)) ? `HTTP ${text(b).split(' ')[1]?.[0] ?? '?'}xx` : null),
      };
    case 'rtsp':
      return {
        send: Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n'),
        expect: (b) => (text(b).startsWith('RTSP/') ? `RTSP ${text(b).split(' ')[1]?.[0] ?? '?'}xx` : null),
      };
    case 'mqtt':
    case 'mqtts':
      return { send: MQTT_CONNECT, expect: (b) => (b[0] === 0x20 ? 'MQTT CONNACK' : null) };
    default:
      return undefined;
  }
}

/** The service's own first exchange within ANSWER_MS; a protocol starbench cannot converse in shows only a TCP accept (or a TLS handshake). */
async function answers(ctx: ProbeContext, s: ServiceDecl): Promise<Liveness> {
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
    }
    const ex = exchangeOf(s.protocol);
    if (!ex)
      return TLS_PROTOCOLS.has(s.protocol)
        ? { answered: true, detail: 'TLS handshake completed', how: 'handshake', signature: 'TLS' }
        : { answered: true, detail: 'accepted a connection', how: 'accept' };
    const first = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${ANSWER_MS} ms`)), ANSWER_MS);
      stream.once('data', (d: Buffer) => (clearTimeout(timer), resolve(d)));
      stream.once('close', () => (clearTimeout(timer), reject(new Error('closed without an answer'))));
      stream.once('error', (e) => (clearTimeout(timer), reject(e)));
      if (ex.send) stream.write(ex.send);
    });
    const signature = ex.expect(first);
    const shown = first
      .subarray(0, 24)
      .toString('latin1')
      .replace(/[^\x20-\x7e]/g, '.');
    return signature
      ? { answered: true, detail: `answered (${shown})`, how: 'exchange', signature }
      : { answered: false, detail: `answered something else (${shown})` };
  } catch (err) {
    return { answered: false, detail: (err as Error).message };
  } finally {
    sock?.destroy();
  }
}

/** Alive as it was before the load: it answers, and the same way (a web server now answering 503 has not recovered). */
function asBefore(before: Liveness | undefined, now: Liveness): boolean {
  return now.answered && (before?.signature === undefined || before.signature === now.signature);
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
  let inFlight = 0;
  let skipped = 0;
  // At most rate × seconds connections, on a fixed schedule within the window. A connection the device's connection
  // limit has no room for is skipped, never queued: the burst ends on time and its delivered rate is what it was.
  for (let i = 0; i < rate * seconds && !ctx.signal.aborted; i++) {
    const due = started + (i * 1000) / rate;
    if (due > Date.now()) await sleepUnlessAborted(ctx.signal, due - Date.now());
    if (inFlight >= ctx.device.limits.connections) {
      skipped++;
      continue;
    }
    inFlight++;
    hits.push(oneHit(ctx, port, malformed).finally(() => inFlight--));
  }
  const results = await Promise.all(hits);
  const connected = results.filter(Boolean).length;
  return { attempted: results.length, skipped, connected, failed: results.length - connected, deliveredRate: results.length / seconds };
}

/** Polls the services once a second until all answer as before for stableMs in a row, or the recovery time is up. */
async function recovery(ctx: ProbeContext, services: ServiceDecl[], before: ReadonlyMap<number, Liveness>, recoveryMs: number, stableMs: number) {
  const started = Date.now();
  let streak: number | undefined;
  const last = new Map<number, Liveness>();
  while (!ctx.signal.aborted && Date.now() - started <= recoveryMs + stableMs) {
    const round = await Promise.all(services.map(async (s) => [s.port, await answers(ctx, s)] as const));
    for (const [p, a] of round) last.set(p, a);
    const all = round.every(([p, a]) => asBefore(before.get(p), a));
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
  facts: [LoadBurstFact, LoadAfterFact],
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
    // Each port: its control, the burst (bounded by its window and a connect timeout), the recovery polls (each
    // round at most a connect timeout and an answer wait past the window); then the settle wait and one more round.
    const round = device.limits.connectTimeoutMs / 1000 + ANSWER_MS / 1000 + 1;
    const ports = loadTargets(device).length;
    return (ports * (round + r.seconds + 3 + r.recoverySeconds + r.stableSeconds + round) + r.stableSeconds + round + 10) * 1000;
  },
  async run(ctx) {
    const r = ctx.device.resilience!;
    const services = loadTargets(ctx.device);
    const observations: Observation[] = [];
    // The control of every service first: only those that answered are loaded and asked again.
    const before = new Map<number, Liveness>();
    for (const s of services) before.set(s.port, await answers(ctx, s));
    const alive = services.filter((s) => before.get(s.port)!.answered);
    let settled = true;
    for (const s of services) {
      if (ctx.signal.aborted) break;
      const baseline = before.get(s.port)!;
      const base = { port: s.port, protocol: s.protocol, baseline, declaredRate: r.rate, seconds: r.seconds };
      if (!baseline.answered) {
        const data = { ...base, attempted: 0, skipped: 0, connected: 0, failed: 0, deliveredRate: 0, recovered: null, services: [] };
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
      const rec = await recovery(ctx, alive, before, r.recoverySeconds * 1000, r.stableSeconds * 1000);
      const after = alive.map((x) => {
        const a = rec.last.get(x.port);
        return { port: x.port, protocol: x.protocol, recovered: a ? asBefore(before.get(x.port), a) : false, detail: a?.detail ?? 'not asked' };
      });
      const data = { ...base, ...b, recovered: rec.recovered, ...(rec.after !== undefined ? { recoveredAfterMs: rec.after } : {}), services: after };
      const down = after.filter((x) => !x.recovered).map((x) => x.port);
      observations.push({
        kind: LoadBurstFact.kind,
        port: s.port,
        summary: `port ${s.port}: ${b.attempted} connections (${b.connected} accepted${b.skipped ? `, ${b.skipped} skipped at the connection limit` : ''}) at ${b.deliveredRate.toFixed(1)}/s; ${
          rec.recovered
            ? `every service answered again as before after ${((rec.after ?? 0) / 1000).toFixed(1)} s and kept answering`
            : `not recovered within ${r.recoverySeconds} s (${down.length ? `not answering as before on ${down.join(', ')}` : 'answers came and went'})`
        }`,
        data,
      });
      // A device that did not come back is not loaded again: the next burst would say nothing new.
      if (!rec.recovered) {
        settled = false;
        break;
      }
    }
    // Once more after the last burst has settled: a service that dies later than the stability window is no recovery.
    if (settled && alive.length && !ctx.signal.aborted) {
      const waitedMs = r.stableSeconds * 1000;
      await sleepUnlessAborted(ctx.signal, waitedMs);
      const late = await Promise.all(alive.map(async (s) => ({ s, a: await answers(ctx, s) })));
      const rows = late.map(({ s, a }) => ({ port: s.port, protocol: s.protocol, answered: asBefore(before.get(s.port), a), detail: a.detail }));
      const gone = rows.filter((x) => !x.answered).map((x) => x.port);
      observations.push({
        kind: LoadAfterFact.kind,
        summary: gone.length
          ? `${waitedMs / 1000} s after the last burst: not answering as before on ${gone.join(', ')}`
          : `${waitedMs / 1000} s after the last burst: every service still answers`,
        data: { waitedMs, services: rows },
      });
    }
    return { observations };
  },
};
