/**
 * traffic: what the device sends on its own (JC-STAR S1.1-12 and S1.1-08,
 * EN 303 645 5.5 and 6, EN 18031 SCM). A passive capture on the bench
 * interface the device is behind (dumpcap or tcpdump, only the device's
 * addresses in the filter, bounded in time and size), dissected by tshark:
 * every destination the device itself contacted, what its TLS client
 * offered, and what crossed in clear. The control: the bench's own
 * connection to the device must show in the same capture, or nothing the
 * capture did not show means anything. Opt-in (`traffic.mitm`), the bench
 * then answers the device's own TLS connections with an untrusted
 * certificate (mitm.ts).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import type { TrafficDecl } from '../../harness/device-file/schema';
import type { Observation, Probe, ProbeContext } from '../../harness/types';
import { runAction, type ActionRecord } from '../util/actions';
import { canRestart, restartDevice } from '../util/power';
import { sleepUnlessAborted } from '../util/sleep';
import { deviceFilter, startCapture, type CaptureStats } from './capture';
import { dissect, MIN_NEEDLE, type Dissected, type Needles } from './dissect';
import {
  TrafficCaptureFact,
  TrafficDestinationFact,
  TrafficMitmFact,
  type TrafficCapture,
  type TrafficDestination,
  type TrafficMitm,
} from '../../harness/traffic';
import { NFT_MISSING, missingCaptureTools, trafficTools, type TrafficTools } from './tools';
import { removeLeftoverRedirect, runMitm, type MitmTarget } from './mitm';
import { maskFile, maskForms, maskFrames } from './mask';

export { TrafficCaptureFact, TrafficDestinationFact, TrafficMitmFact };
export { removeLeftoverRedirect };

/** dumpcap says it is capturing a moment before it does. */
const DUMPCAP_SETTLE_MS = 1000;
const CONTROL_ATTEMPTS = 3;
const CONTROL_WAIT_MS = 1500;
/** tshark's budget per capture (a 500 MB capture takes a while). */
const DISSECT_MS = 180_000;

function benchAddresses(iface: string): string[] {
  return (networkInterfaces()[iface] ?? []).filter((a) => !a.address.toLowerCase().startsWith('fe80')).map((a) => a.address.toLowerCase());
}

function needlesOf(ctx: ProbeContext): Needles {
  const credentials: Record<string, string> = {};
  for (const [name, c] of Object.entries(ctx.device.credentials)) if (c.password) credentials[name] = c.password;
  return { personalData: { ...(ctx.device.personalData?.canaries ?? {}) }, secrets: { ...(ctx.device.traffic?.secrets ?? {}) }, credentials };
}

/** Where a capture file goes: the run's evidence folder (written there by the capture tool itself), else a temporary folder. */
function pcapPath(ctx: ProbeContext, name: string): { abs: string; rel?: string } {
  if (ctx.runDir) {
    const rel = ctx.evidence.write(name, Buffer.alloc(0));
    return { abs: path.join(ctx.runDir, rel), rel };
  }
  return { abs: path.join(mkdtempSync(path.join(tmpdir(), 'starbench-traffic-')), name) };
}

async function provoke(ctx: ProbeContext, what: TrafficDecl['provoke'][number]): Promise<ActionRecord> {
  const started = new Date().toISOString();
  const name = typeof what === 'string' ? what : 'traffic.provoke';
  const missing = (why: string): ActionRecord => ({
    action: name,
    via: 'operator',
    request: name,
    startedAt: started,
    durationMs: 0,
    attempts: 0,
    ok: false,
    error: why,
    clearText: false,
  });
  if (typeof what === 'object') {
    try {
      return (await runAction(ctx, 'traffic.provoke', what)).record;
    } catch (err) {
      return missing((err as Error).message);
    }
  }
  if (what === 'restart') {
    if (!canRestart(ctx)) return missing('the device file declares no restart action or power controller');
    return restartDevice(ctx);
  }
  const version = ctx.device.update?.version;
  if (!version) return missing('the device file declares no update.version action to ask for a firmware check');
  return (await runAction(ctx, 'update.version', version, { read: true })).record;
}

interface Watched {
  capture: TrafficCapture;
  dissected?: Dissected;
}

/** One capture window: start, prove it sees the bench's own connection, provoke, wait, stop, dissect. */
async function watch(
  ctx: ProbeContext,
  tools: Required<Pick<TrafficTools, 'capture' | 'tshark'>>,
  o: { phase: 'watch' | 'mitm'; seconds: number; during?: (signal: AbortSignal) => Promise<void> },
): Promise<Watched> {
  const t = ctx.device.traffic!;
  const device = [ctx.scope.address, ...(ctx.scope.host6 ? [ctx.scope.host6] : [])];
  const filter = deviceFilter(device, t.mac);
  const file = pcapPath(ctx, `${o.phase}.pcap`);
  const controlPort = ctx.device.services.find((s) => s.transport === 'tcp')?.port ?? 80;
  const capture: TrafficCapture = {
    phase: o.phase,
    interface: t.interface,
    tool: tools.capture.tool,
    filter,
    pcap: file.rel ?? file.abs,
    seconds: o.seconds,
    bytes: 0,
    truncated: false,
    control: { seen: false, detail: `no SYN from the bench to ${ctx.scope.address}:${controlPort}` },
    deviceFlows: 0,
    dnsQueries: [],
    provoked: [],
  };
  const cap = startCapture({
    tool: tools.capture.tool,
    path: tools.capture.path,
    iface: t.interface,
    filter,
    file: file.abs,
    maxBytes: t.maxMegabytes * 1_000_000,
    maxMs: (o.seconds + 60) * 1000,
  });
  let stats: CaptureStats | undefined;
  const started = Date.now();
  try {
    await cap.ready;
    capture.control.detail = await control(ctx, controlPort, tools.capture.tool, () => cap.written());
    if (o.phase === 'watch')
      for (const p of t.provoke) {
        const rec = await provoke(ctx, p);
        capture.provoked.push({
          action: typeof p === 'string' ? p : 'action',
          ok: rec.ok,
          detail: rec.error ?? `${rec.request}${rec.status !== undefined ? ` → ${rec.status}` : ''}`,
        });
      }
    if (o.during) await o.during(ctx.signal);
    const left = o.seconds * 1000 - (Date.now() - started);
    if (left > 0) await sleepUnlessAborted(ctx.signal, left);
  } catch (err) {
    capture.error = (err as Error).message;
  } finally {
    stats = await cap.stop();
  }
  capture.seconds = Math.round((Date.now() - started) / 100) / 10;
  capture.bytes = stats.bytes;
  capture.truncated = stats.truncated;
  if (stats.packets !== undefined) capture.packets = stats.packets;
  if (stats.dropped) capture.dropped = stats.dropped;
  if (stats.error && !capture.error) capture.error = stats.error;
  if (capture.error) {
    mask(ctx, file.abs, capture);
    return { capture };
  }
  let frames: ReadonlyMap<number, Buffer[]> = new Map();
  try {
    const dissected = await dissect({
      tshark: tools.tshark,
      pcap: file.abs,
      device,
      mac: t.mac,
      servicePorts: {
        tcp: ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => s.port),
        udp: ctx.device.services.filter((s) => s.transport === 'udp').map((s) => s.port),
      },
      bench: benchAddresses(t.interface),
      controlPort,
      needles: needlesOf(ctx),
      phase: o.phase,
      signal: ctx.signal,
      timeoutMs: DISSECT_MS,
    });
    capture.control.seen = dissected.controlSeen;
    capture.deviceFlows = dissected.deviceFlows;
    capture.dnsQueries = dissected.dnsQueries.slice(0, 200);
    capture.packets = dissected.packets;
    if (dissected.partial) capture.truncated = true;
    if (!dissected.controlSeen)
      capture.control.detail += `, but that connection is not in the capture of ${t.interface}: the device is not behind this interface, or the capture missed packets`;
    frames = dissected.maskFrames;
    return { capture, dissected };
  } catch (err) {
    capture.error = (err as Error).message;
    return { capture };
  } finally {
    mask(ctx, file.abs, capture, frames);
  }
}

/** Once read, the capture keeps no canary, secret or lab password (unless --reveal): see mask.ts. */
function mask(ctx: ProbeContext, file: string, capture: TrafficCapture, frames: ReadonlyMap<number, Buffer[]> = new Map()): void {
  if (ctx.secrets.reveal) return;
  const n = needlesOf(ctx);
  try {
    const values = [...Object.values(n.personalData), ...Object.values(n.secrets), ...Object.values(n.credentials)].filter((v) => v.length >= MIN_NEEDLE);
    capture.masked = maskFile(file, maskForms(values)) + maskFrames(file, frames);
  } catch (err) {
    capture.error ??= `the capture could not be masked: ${(err as Error).message}`;
  }
}

/**
 * The control: the bench's own connection to the device, made once the capture is live, and seen in it (dissect.ts
 * decides). With tcpdump, which writes each packet at once, the connection is made again (at most 3 times) until the
 * capture file grows: a capture that came up late is waited for, not mistaken for a quiet device.
 */
async function control(ctx: ProbeContext, port: number, tool: 'tcpdump' | 'dumpcap', written: () => number): Promise<string> {
  if (tool === 'dumpcap') await sleepUnlessAborted(ctx.signal, DUMPCAP_SETTLE_MS);
  let state = '';
  for (let attempt = 1; attempt <= CONTROL_ATTEMPTS; attempt++) {
    const before = written();
    state = String(await ctx.connector.portState(port, { signal: ctx.signal }).catch((err: Error) => `error: ${err.message}`));
    if (tool === 'dumpcap') break;
    const deadline = Date.now() + CONTROL_WAIT_MS;
    while (written() === before && Date.now() < deadline && !ctx.signal.aborted) await sleepUnlessAborted(ctx.signal, 50);
    if (written() !== before) return `the bench connected to ${ctx.scope.address}:${port} (${state}; attempt ${attempt})`;
  }
  return `the bench connected to ${ctx.scope.address}:${port} (${state})`;
}

function destinationObservation(d: TrafficDestination): Observation {
  return {
    kind: TrafficDestinationFact.kind,
    port: d.port,
    protocol: d.protocol,
    summary: `${d.phase === 'mitm' ? '(during the MITM test) ' : ''}${d.names.length ? `${d.names.join(', ')} ` : ''}${d.address}:${d.port}/${d.transport} ${d.protocol}${d.tls ? ` (offers up to ${d.tls.maxOffered})` : ''}${d.clear.length ? `; in clear: ${d.clear.map((c) => c.name).join(', ')}` : ''}`,
    data: d,
  };
}

function summaryOf(c: TrafficCapture): string {
  if (c.error) return `capture on ${c.interface} failed: ${c.error}`;
  return `${c.phase} capture on ${c.interface}, ${c.seconds} s: ${c.packets ?? '?'} packet(s), ${c.deviceFlows} connection(s) the device opened${c.control.seen ? '' : '; the control connection was NOT seen'}`;
}

export const trafficProbe: Probe = {
  id: 'traffic',
  title: 'What the device sends on its own (capture, destinations, certificate validation)',
  needs: ['host'],
  facts: [TrafficCaptureFact, TrafficDestinationFact, TrafficMitmFact],
  disruptive: 'traffic',
  clauses: ['JC-STAR S1.1-12', 'JC-STAR S1.1-08', 'EN 303 645 5.5-1', 'EN 303 645 6-1', 'EN 18031 SCM-1', 'EN 18031 SCM-2'],
  timeoutMs(device) {
    const t = device.traffic;
    if (!t) return 0;
    const restart = t.provoke.includes('restart') ? device.limits.deviceReturnSeconds : 0;
    return (t.seconds + (t.mitm ? (t.mitmSeconds ?? t.seconds) + t.seconds : 0) + restart + (2 * DISSECT_MS) / 1000 + 60) * 1000;
  },
  skipReason(device) {
    if (!device.traffic)
      return 'the device file has no traffic section: declare the bench interface the device is behind (traffic.interface) to watch what it sends';
    return missingCaptureTools(trafficTools());
  },
  async run(ctx) {
    const t = ctx.device.traffic!;
    const tools = trafficTools();
    const missing = missingCaptureTools(tools);
    if (missing || !tools.capture || !tools.tshark) throw new Error(missing ?? 'capture tools missing');
    if (!existsSync(`/sys/class/net/${t.interface}`) && !networkInterfaces()[t.interface])
      throw new Error(`traffic.interface ${t.interface} is not an interface of this bench host`);
    const use = { capture: tools.capture, tshark: tools.tshark };
    const observations: Observation[] = [];
    ctx.progress(`watching what the device sends on ${t.interface} for ${t.seconds} s`);
    const w = await watch(ctx, use, { phase: 'watch', seconds: t.seconds });
    observations.push({ kind: TrafficCaptureFact.kind, summary: summaryOf(w.capture), data: w.capture });
    for (const d of w.dissected?.destinations ?? []) observations.push(destinationObservation(d));
    if (!t.mitm) return { observations };

    const mitmSeconds = t.mitmSeconds ?? t.seconds;
    const bench = benchAddresses(t.interface).find((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a));
    const targets: MitmTarget[] = (w.dissected?.destinations ?? [])
      .filter((d) => d.tls && d.transport === 'tcp' && !d.local)
      .map((d) => ({ address: d.address, port: d.port, names: d.names }));
    const base: TrafficMitm = { interface: t.interface, seconds: mitmSeconds, rules: [], removed: true, targets, attempts: [], alertsInCapture: [] };
    let mitm: TrafficMitm;
    if (!tools.nft) mitm = { ...base, error: NFT_MISSING, missingPackage: 'nftables' };
    else if (w.capture.error || !w.dissected) mitm = { ...base, error: 'the watch before it failed, so there is nothing known to redirect' };
    else if (targets.length === 0)
      mitm = {
        ...base,
        error: `the device opened no TLS connection during the ${t.seconds} s watch: there is nothing to answer (lengthen traffic.seconds or provoke it)`,
      };
    else if (!bench) mitm = { ...base, error: `the bench interface ${t.interface} has no IPv4 address to answer on` };
    else {
      ctx.progress(`answering the device's TLS connections with an untrusted certificate for ${mitmSeconds} s`);
      let result: TrafficMitm | undefined;
      const m = await watch(ctx, use, {
        phase: 'mitm',
        seconds: mitmSeconds,
        during: async (signal) => {
          result = await runMitm({
            nft: tools.nft!,
            iface: t.interface,
            bench,
            device: [ctx.scope.address],
            targets,
            seconds: mitmSeconds,
            personalData: ctx.device.personalData?.canaries ?? {},
            signal,
            runDir: ctx.runDir,
            tag: `${process.pid.toString(36)}${randomBytes(4).toString('hex')}`,
            // Provoked again once the redirect is in place: a device that holds one long session opens a new one only when made to.
            afterRules: async () => {
              for (const p of t.provoke) await provoke(ctx, p);
            },
          });
        },
      });
      mitm = result ?? { ...base, error: m.capture.error ?? 'the responder did not run' };
      mitm.alertsInCapture = (m.dissected?.alerts ?? []).slice(0, 100);
      observations.push({ kind: TrafficCaptureFact.kind, summary: summaryOf(m.capture), data: m.capture });
      // What the device sent while its TLS was answered by the bench: a fallback to clear text shows here.
      for (const d of m.dissected?.destinations ?? []) observations.push(destinationObservation(d));
    }
    observations.push({
      kind: TrafficMitmFact.kind,
      summary: mitm.error
        ? `MITM test not done: ${mitm.error}`
        : `MITM: ${mitm.attempts.length} connection(s) answered: ${[...new Set(mitm.attempts.map((a) => a.outcome))].join(', ') || 'none'}`,
      data: mitm,
    });
    return { observations };
  },
};
