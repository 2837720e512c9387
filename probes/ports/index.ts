/**
 * tcp-ports: which TCP ports answer (nmap when installed, else the built-in
 * connect scanner; the whole range unless the device file narrows it), and
 * what each open one is, identified by what it says.
 */
import { parsePortSpec } from '../../harness/device-file/schema';
import { mapLimit } from '../../harness/limiter';
import { z } from 'zod';
import { defineFact, factsOf } from '../../harness/facts';
import type { Observation, Probe, ProbeContext } from '../../harness/types';
import { identifyPort } from './identify';
import { nmapPath, nmapScan } from './nmap';

export const FULL_RANGE = '1-65535';

export const PORT_STATES = ['open', 'closed', 'filtered', 'unreachable'] as const;
export type PortState = (typeof PORT_STATES)[number];

/** One TCP port as the scan saw it, and what it is, by what it said. */
export const TcpPortFact = defineFact(
  'tcp-port',
  z.object({
    port: z.number().int(),
    state: z.enum(PORT_STATES),
    declared: z.boolean(),
    service: z.string().optional(),
    identifiedBy: z.string().optional(),
    banner: z.string().optional(),
    /** Personal-data canary categories the port's first words held. */
    canaries: z.array(z.string()).optional(),
    /** With target.host6 declared: the address families the port was open on (a service on one family only says so). */
    families: z.array(z.enum(['ipv4', 'ipv6'])).optional(),
  }),
);
export type PortRecord = z.infer<typeof TcpPortFact.schema>;

/** The scan as a whole: what was planned, what was scanned, and why it stopped early (`aborted`). */
export const TcpScanFact = defineFact(
  'tcp-scan',
  z.object({
    scanner: z.string(),
    nmapArgs: z.array(z.string()).optional(),
    spec: z.string(),
    planned: z.number().int(),
    scanned: z.number().int(),
    open: z.array(z.number().int()),
    closed: z.number().int(),
    filtered: z.number().int(),
    unreachable: z.number().int(),
    aborted: z.string().optional(),
    /** The same ports asked on target.host6, when declared. */
    ipv6: z
      .object({
        address: z.string(),
        scanner: z.string(),
        scanned: z.number().int(),
        open: z.array(z.number().int()),
        closed: z.number().int(),
        filtered: z.number().int(),
        unreachable: z.number().int(),
        aborted: z.string().optional(),
      })
      .optional(),
  }),
  // A scan that stopped early, that no port answered at all (not even with a refusal), or that could not reach
  // some ports cannot vouch for what it did not see.
  (s) =>
    s.aborted ??
    (s.open.length === 0 && s.closed === 0
      ? `none of the ${s.scanned} scanned TCP ports answered, not even with a refusal: the device may be off or filtered`
      : s.unreachable > 0
        ? `${s.unreachable} of ${s.scanned} TCP ports were unreachable (no route)`
        : s.ipv6 && (s.ipv6.aborted || (s.ipv6.open.length === 0 && s.ipv6.closed === 0) || s.ipv6.unreachable > 0)
          ? `on IPv6 (${s.ipv6.address}): ${s.ipv6.aborted ?? (s.ipv6.unreachable > 0 ? `${s.ipv6.unreachable} ports unreachable (no route)` : `none of the ${s.ipv6.scanned} ports answered, not even with a refusal`)}`
          : null),
);
export type TcpScan = z.infer<typeof TcpScanFact.schema>;

/** The open TCP ports the tcp-ports probe saw (for the probes that depend on it). */
export function openPorts(ctx: Pick<ProbeContext, 'dependency'>): PortRecord[] {
  return factsOf(ctx.dependency('tcp-ports'), TcpPortFact).filter((r) => r.state === 'open');
}

export function portsToScan(ctx: Pick<ProbeContext, 'device'>): { ports: number[]; spec: string } {
  const declared = ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => s.port);
  const spec = ctx.device.scan?.tcp ?? FULL_RANGE;
  const ports = [...new Set([...declared, ...(parsePortSpec(spec) ?? [])])].sort((a, b) => a - b);
  return { ports, spec };
}

/** One connect: open, closed, filtered (no answer) or unreachable (no route). */
function connectState(ctx: ProbeContext, port: number): Promise<PortState> {
  return ctx.connector.portState(port, { signal: ctx.signal });
}

/** Compress a sorted port list into a spec for nmap ("1-21,23-65535"). */
export function toSpec(ports: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < ports.length;) {
    let j = i;
    while (j + 1 < ports.length && ports[j + 1] === ports[j] + 1) j++;
    parts.push(i === j ? String(ports[i]) : `${ports[i]}-${ports[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** The same ports on target.host6: nmap -6 when installed, else the built-in connect scan. */
async function scanIpv6(ctx: ProbeContext, ports: number[], nmap: string | undefined, limit: number): Promise<z.infer<typeof TcpScanFact.schema>['ipv6']> {
  const address = ctx.scope.host6!;
  ctx.scope.assertHost(address);
  ctx.progress(`scanning ${ports.length} TCP ports on ${address}`);
  const out = {
    address,
    scanner: nmap ? 'nmap -6 -sT' : 'built-in connect scan',
    scanned: ports.length,
    open: [] as number[],
    closed: 0,
    filtered: 0,
    unreachable: 0,
    aborted: undefined as string | undefined,
  };
  try {
    if (nmap) {
      const r = await nmapScan(nmap, address, toSpec(ports), limit, ctx.signal);
      ctx.evidence.write('nmap-ipv6.xml', r.xml);
      Object.assign(out, { open: r.open, closed: r.closed, filtered: r.filtered });
    } else {
      const states = await mapLimit(ports, limit, (p) => ctx.connector.portState(p, { signal: ctx.signal, family: 6 }));
      states.forEach((st, i) => {
        if (st === 'open') out.open.push(ports[i]);
        else if (st === 'closed') out.closed += 1;
        else if (st === 'filtered') out.filtered += 1;
        else out.unreachable += 1;
      });
    }
  } catch (err) {
    out.aborted = `the IPv6 scan failed: ${(err as Error).message}`;
  }
  out.open.sort((a, b) => a - b);
  return out;
}

export const tcpPortsProbe: Probe = {
  id: 'tcp-ports',
  title: 'TCP service discovery (nmap or the built-in connect scan) and identification',
  needs: ['host'],
  facts: [TcpPortFact, TcpScanFact],
  clauses: ['EN 303 645 5.6-1', 'TS 103 701 5.6-1-2'],
  async run(ctx) {
    const { ports, spec } = portsToScan(ctx);
    const declaredSet = new Set(ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => s.port));
    const limit = ctx.connector.slots.limit;
    const choice = ctx.device.scan?.scanner ?? 'auto';
    const nmap = choice === 'builtin' ? undefined : nmapPath();
    if (choice === 'nmap' && !nmap) throw new Error('scan.scanner is nmap, but nmap is not installed (apt-get install nmap)');
    ctx.progress(`scanning ${ports.length} TCP ports with ${nmap ? 'nmap' : 'the built-in scanner'}`);

    // Declared ports first: if none answers the device is down or filtered,
    // and scanning the rest would only burn the deadline.
    const declaredPorts = ports.filter((p) => declaredSet.has(p));
    const states = new Map<number, PortState>();
    (await mapLimit(declaredPorts, limit, (p) => connectState(ctx, p))).forEach((s, i) => states.set(declaredPorts[i], s));
    let aborted: string | undefined;
    let scanner = 'built-in connect scan';
    let nmapArgs: string[] | undefined;
    const rest = ports.filter((p) => !declaredSet.has(p));
    let closedCount = 0;
    let filteredCount = 0;
    const down = declaredPorts.length > 0 && declaredPorts.every((p) => states.get(p) === 'filtered' || states.get(p) === 'unreachable');
    // IPv6 scanned at the same time as IPv4, the connection limit split between the two nmaps (the built-in scanner's
    // connections share the connector's slots anyway): the two scans overlap instead of adding up.
    const together = ctx.scope.host6 !== undefined && !down && (!nmap || limit >= 2);
    const v4Limit = together && nmap ? Math.ceil(limit / 2) : limit;
    const v6Pending = together ? scanIpv6(ctx, ports, nmap, nmap ? Math.floor(limit / 2) : limit) : undefined;
    v6Pending?.catch(() => undefined);
    if (down) {
      aborted = `none of the ${declaredPorts.length} declared TCP ports answered (${states.get(declaredPorts[0])}); the device looks down or filtered, so the rest of the scan was not attempted`;
    } else if (nmap && rest.length > 0) {
      ctx.scope.assertHost(ctx.connector.host);
      const r = await nmapScan(nmap, ctx.connector.host, toSpec(rest), v4Limit, ctx.signal);
      scanner = 'nmap -sT';
      nmapArgs = r.args;
      ctx.evidence.write('nmap.xml', r.xml);
      for (const p of r.open) states.set(p, 'open');
      closedCount = r.closed;
      filteredCount = r.filtered;
    } else {
      (await mapLimit(rest, limit, (p) => connectState(ctx, p))).forEach((s, i) => {
        if (s === 'open' || s === 'unreachable') states.set(rest[i], s);
        else if (s === 'closed') closedCount += 1;
        else filteredCount += 1;
      });
    }
    for (const p of declaredPorts) {
      if (states.get(p) === 'closed') closedCount += 1;
      if (states.get(p) === 'filtered') filteredCount += 1;
    }
    const openV4 = new Set([...states].filter(([, st]) => st === 'open').map(([p]) => p));
    const ipv6 = ctx.scope.host6 && !aborted ? await (v6Pending ?? scanIpv6(ctx, ports, nmap, limit)) : undefined;
    const openV6 = new Set(ipv6?.open ?? []);
    for (const p of openV6) {
      if (openV4.has(p)) continue;
      // Open on IPv6 only: every probe reaches it there.
      states.set(p, 'open');
      ctx.connector.onlyOnIpv6(p);
    }
    const families = (p: number): { families?: Array<'ipv4' | 'ipv6'> } =>
      ipv6 ? { families: [...(openV4.has(p) ? (['ipv4'] as const) : []), ...(openV6.has(p) ? (['ipv6'] as const) : [])] } : {};

    const open = [...states]
      .filter(([, s]) => s === 'open')
      .map(([p]) => p)
      .sort((a, b) => a - b);
    const bannerWait = ctx.device.scan?.bannerWaitMs ?? 500;
    const identities = await mapLimit(open, limit, (p) =>
      identifyPort(ctx, p, bannerWait).catch((err: Error) => ({ service: undefined, identifiedBy: `identification failed: ${err.message}` })),
    );
    const records: PortRecord[] = [
      ...open.map((port, i) => ({ port, state: 'open' as const, declared: declaredSet.has(port), ...identities[i], ...families(port) })),
      ...declaredPorts.filter((p) => states.get(p) !== 'open').map((port) => ({ port, state: states.get(port)!, declared: true })),
    ].sort((a, b) => a.port - b.port);
    const unreachable = [...states.values()].filter((s) => s === 'unreachable').length;
    const observations: Observation[] = records.map((r) => ({
      kind: 'tcp-port',
      port: r.port,
      protocol: r.service,
      summary: `TCP ${r.port} ${r.state}${r.families && r.families.length === 1 ? ` on ${r.families[0] === 'ipv6' ? 'IPv6' : 'IPv4'} only` : ''}${r.service ? ` (${r.service}: ${r.identifiedBy})` : ''}${r.declared ? '' : ' — not declared'}`,
      data: { ...r },
    }));
    const scanned = aborted ? declaredPorts.length : ports.length;
    observations.push({
      kind: 'tcp-scan',
      summary: `${scanner}: ${scanned} of ${ports.length} TCP ports (${spec}): ${open.length} open, ${closedCount} closed, ${filteredCount} filtered, ${unreachable} unreachable${ipv6 ? `; IPv6 ${ipv6.address}: ${ipv6.open.length} open, ${ipv6.closed} closed, ${ipv6.filtered} filtered${ipv6.aborted ? ` (${ipv6.aborted})` : ''}` : ''}`,
      data: { scanner, nmapArgs, spec, planned: ports.length, scanned, open, closed: closedCount, filtered: filteredCount, unreachable, aborted, ipv6 },
    });
    return { observations };
  },
};
