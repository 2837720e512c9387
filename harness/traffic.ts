/**
 * The facts of the traffic probe (the captures, each destination the device contacted, the MITM attempts), and the
 * destinations table the report carries: here in the core because the report is assembled here.
 */
import net from 'node:net';
import { z } from 'zod';
import type { ProbeResult } from './types';
import type { DestinationRow } from './destination-row';
import { defineFact } from './facts';

/** The run folder's note of MITM redirect rules in place (probes/traffic/mitm.ts): removed with them, read by `resume`. */
export const REDIRECT_NOTE = 'traffic-redirect.json';

export const CLEAR_KINDS = ['personal-data', 'secret', 'credential', 'authorization', 'token'] as const;

const clearItem = z.object({
  kind: z.enum(CLEAR_KINDS),
  /** The category, secret or credential name; never the value. */
  name: z.string(),
  how: z.string(),
  frame: z.number().int().optional(),
});
export type ClearItem = z.infer<typeof clearItem>;

export const TrafficCaptureFact = defineFact(
  'traffic-capture',
  z.object({
    phase: z.enum(['watch', 'mitm']),
    interface: z.string(),
    tool: z.string(),
    filter: z.string(),
    pcap: z.string().optional(),
    seconds: z.number(),
    packets: z.number().int().optional(),
    dropped: z.number().int().optional(),
    bytes: z.number().int(),
    truncated: z.boolean(),
    /** The control: the bench's own connection to the device was in the capture (the right interface, the capture working). */
    control: z.object({ seen: z.boolean(), detail: z.string() }),
    /** Connections or exchanges the device itself opened. */
    deviceFlows: z.number().int(),
    dnsQueries: z.array(z.object({ name: z.string(), answers: z.array(z.string()), frame: z.number().int() })).default([]),
    /** What was done to make the device talk (a restart, a version request), and how it went. */
    /** Values (canaries, secrets, lab passwords) overwritten with '*' in the kept pcap, once read. */
    masked: z.number().int().optional(),
    provoked: z.array(z.object({ action: z.string(), ok: z.boolean(), detail: z.string() })).default([]),
    error: z.string().optional(),
  }),
  (d) =>
    d.error
      ? `the capture failed: ${d.error}`
      : !d.control.seen
        ? `the capture on ${d.interface} did not see the bench's own connection to the device (${d.control.detail}): the device may not be behind this interface`
        : d.dropped
          ? `the capture dropped ${d.dropped} packet(s)`
          : null,
);
export type TrafficCapture = z.infer<typeof TrafficCaptureFact.schema>;

export const TrafficDestinationFact = defineFact(
  'traffic-destination',
  z.object({
    phase: z.enum(['watch', 'mitm']),
    address: z.string(),
    port: z.number().int(),
    transport: z.enum(['tcp', 'udp', 'icmp']),
    /** The highest protocol tshark named (dns, http, tls, mqtt, ntp…). */
    protocol: z.string(),
    /** Every name: those the device's own DNS lookups gave for the address, and those it named itself (SNI, Host). */
    names: z.array(z.string()),
    /** Names a DNS answer in the capture gave for this address. */
    resolvedNames: z.array(z.string()).default([]),
    /** Names the device said it was talking to (TLS SNI, HTTP Host): its claim, not evidence of where the address is. */
    claimedNames: z.array(z.string()).default([]),
    /** Application bytes the device sent there (TCP/UDP/ICMP payload). */
    payloadBytes: z.number().int().default(0),
    /** What the device sent in clear there that could not be read for canaries (compressed bodies, masked WebSocket frames, HTTP/2, malformed). */
    opaque: z.array(z.string()).default([]),
    /** Why not all of what the device sent there was searched (more than was kept, frames cut by the snap length). */
    partial: z.string().optional(),
    /** A TLS record tshark did not dissect (a ClientHello it did not recognise): the offer is unknown. */
    tlsUnparsed: z.boolean().default(false),
    /** The device began an SSH key exchange there (KEXINIT): tshark's "ssh" label alone is only a banner. */
    sshKex: z.boolean().default(false),
    /** Multicast, broadcast, link-local: stays on the device's own network segment. */
    local: z.boolean(),
    flows: z.number().int(),
    packetsOut: z.number().int(),
    bytesOut: z.number().int(),
    bytesIn: z.number().int(),
    firstFrame: z.number().int(),
    tls: z
      .object({
        sni: z.array(z.string()),
        versions: z.array(z.string()),
        maxOffered: z.string(),
        suites: z.array(z.number().int()),
        weakSuites: z.array(z.object({ code: z.number().int(), name: z.string(), why: z.string() })),
        ja3: z.array(z.string()),
        frames: z.array(z.number().int()),
      })
      .optional(),
    http: z.object({ hosts: z.array(z.string()), requests: z.array(z.object({ method: z.string(), uri: z.string(), frame: z.number().int() })) }).optional(),
    mqtt: z.object({ topics: z.array(z.string()), usernames: z.array(z.string()) }).optional(),
    clear: z.array(clearItem),
    firmware: z.array(z.object({ uri: z.string(), frame: z.number().int() })),
  }),
);
export type TrafficDestination = z.infer<typeof TrafficDestinationFact.schema>;

export const MITM_OUTCOMES = ['alert', 'application-data', 'handshake-only', 'closed', 'error'] as const;

export const TrafficMitmFact = defineFact(
  'traffic-mitm',
  z.object({
    interface: z.string(),
    responder: z.string().optional(),
    seconds: z.number(),
    /** The redirect rules the run created (nftables, in this host's own namespace), as listed before removal. */
    rules: z.array(z.string()),
    removed: z.boolean(),
    targets: z.array(z.object({ address: z.string(), port: z.number().int(), names: z.array(z.string()) })),
    attempts: z.array(
      z.object({
        target: z.string(),
        sni: z.string().optional(),
        outcome: z.enum(MITM_OUTCOMES),
        /** The TLS alert the device sent (its description), or the error. */
        detail: z.string(),
        appBytes: z.number().int(),
        categories: z.array(z.string()),
        at: z.string(),
      }),
    ),
    /** TLS alerts from the device in the capture of the window (tshark), by frame. */
    alertsInCapture: z.array(z.object({ frame: z.number().int(), alert: z.string() })).default([]),
    error: z.string().optional(),
    /** The Debian package whose absence kept the test from running. */
    missingPackage: z.string().optional(),
  }),
  (d) => (d.error ? `the MITM test could not run: ${d.error}` : null),
);
export type TrafficMitm = z.infer<typeof TrafficMitmFact.schema>;

export function destinationLabel(d: Pick<TrafficDestination, 'names' | 'address' | 'port' | 'transport'>): string {
  const addr = net.isIPv6(d.address) ? `[${d.address}]` : d.address;
  return `${d.names.length ? `${d.names.slice(0, 3).join(', ')} (${addr}:${d.port}/${d.transport})` : `${addr}:${d.port}/${d.transport}`}`;
}

/** Whether a declared destination (`*.vendor.example`, `203.0.113.0/24`, `ntp.example:123`) covers one seen. */
export function declares(entry: string, d: Pick<TrafficDestination, 'address' | 'port' | 'names'>): boolean {
  return matches(entry, d.address, d.port, d.names);
}

const bareName = (n: string): string => n.toLowerCase().replace(/\.$/, '');

function matches(entry: string, address: string, port: number, names: readonly string[]): boolean {
  const d = { address, port, names: names.map(bareName) };
  let host: string;
  let want: number | undefined;
  const bracket = /^\[([^\]]+)\](\/\d+)?(?::(\d+))?$/.exec(entry);
  if (bracket) {
    host = bracket[1] + (bracket[2] ?? '');
    want = bracket[3] ? Number(bracket[3]) : undefined;
  } else {
    const m = /^(.*?)(?::(\d+))?$/.exec(entry)!;
    host = m[1];
    want = m[2] ? Number(m[2]) : undefined;
  }
  if (want !== undefined && want !== d.port) return false;
  const [base, bits] = host.split('/');
  if (net.isIP(base)) {
    if (bits === undefined) return base.toLowerCase() === d.address.toLowerCase();
    const list = new net.BlockList();
    try {
      list.addSubnet(base, Number(bits), net.isIPv6(base) ? 'ipv6' : 'ipv4');
      return list.check(d.address, net.isIPv6(d.address) ? 'ipv6' : 'ipv4');
    } catch {
      return false;
    }
  }
  const name = bareName(host);
  return d.names.some((n) => (name.startsWith('*.') ? n.endsWith(name.slice(1)) : n === name));
}

/**
 * Whether the declared list covers a destination, on evidence: its address (or a CIDR) is declared, or a name the
 * device's own DNS lookups gave for that address is; and every name the device itself said it was talking to (SNI,
 * Host) is declared too — a declared name in the SNI does not make an undeclared address declared, and an undeclared
 * name in the SNI is not made declared by another name of the same address.
 */
export function isDeclared(declared: readonly string[], d: Pick<TrafficDestination, 'address' | 'port' | 'resolvedNames' | 'claimedNames'>): boolean {
  const byAddress = declared.some((e) => matches(e, d.address, d.port, []));
  const byDns = declared.some((e) => matches(e, d.address, d.port, d.resolvedNames));
  const claims = d.claimedNames.every((n) => declared.some((e) => matches(e, d.address, d.port, [n])));
  return (byAddress || byDns) && claims;
}

/** The destinations table of a run, from the traffic probe's facts (empty when it did not complete). */
export function destinationTable(result: ProbeResult | undefined, declared: readonly string[] | undefined): DestinationRow[] {
  if (result?.status !== 'completed') return [];
  const parse = <T>(kind: { kind: string; schema: z.ZodType<T> }): T[] =>
    result.observations
      .filter((o) => o.kind === kind.kind)
      .flatMap((o) => {
        const r = kind.schema.safeParse(o.data);
        return r.success ? [r.data] : [];
      });
  const mitm = parse(TrafficMitmFact)[0];
  // The watch's destinations, then those seen only during the MITM test (a fallback server).
  const all = parse(TrafficDestinationFact);
  const key = (d: TrafficDestination): string => `${d.transport}/${d.address}/${d.port}`;
  const watched = new Set(all.filter((d) => d.phase === 'watch').map(key));
  return all
    .filter((d) => d.phase === 'watch' || !watched.has(key(d)))
    .map((d) => ({
      names: d.names,
      address: d.address,
      port: d.port,
      transport: d.transport,
      protocol: d.protocol,
      tls: d.tls ? d.tls.maxOffered || 'TLS' : null,
      personalData: [
        ...new Set([
          ...d.clear.filter((c) => c.kind === 'personal-data').map((c) => c.name),
          ...(mitm?.attempts.filter((a) => a.target === `${d.address}:${d.port}`).flatMap((a) => a.categories) ?? []),
        ]),
      ],
      inClear: [...new Set(d.clear.filter((c) => c.kind !== 'personal-data').map((c) => c.name))],
      declared: declared === undefined ? null : isDeclared(declared, d),
      local: d.local,
      bytesOut: d.bytesOut,
      firstFrame: d.firstFrame,
    }));
}
