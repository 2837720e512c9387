/**
 * tcp-ports: which TCP ports answer, found with the built-in connect scanner
 * (nmap comes with the network probes), and what each open service says.
 */
import { parsePortSpec } from '../harness/device-file/schema';
import { ConnectError } from '../harness/connector';
import { mapLimit } from '../harness/limiter';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { identifyBanner, printable, readBanner } from './util/banner';

/**
 * Ports scanned when the device file gives no `scan.tcp`: the declared ones
 * plus those IoT devices are known to expose (telnet 23/2323 scanned by Mirai,
 * TR-069 7547, RTSP 554/8554, ONVIF/HTTP alternates, MQTT 1883/8883, vendor
 * DVR ports 37777/34567, UPnP 49152, Android debug 5555, …).
 */
export const COMMON_IOT_TCP_PORTS = [
  21, 22, 23, 25, 53, 80, 81, 82, 83, 84, 88, 111, 139, 443, 445, 502, 554, 623, 1080, 1443, 1883, 2000, 2323, 3000, 3306,
  3389, 4433, 4443, 4567, 5000, 5001, 5060, 5431, 5555, 5900, 6000, 6667, 7547, 8000, 8001, 8008, 8080, 8081, 8088, 8089,
  8181, 8443, 8554, 8880, 8883, 8888, 9000, 9001, 9090, 9100, 9443, 9527, 9999, 10000, 10001, 12345, 23231, 34567, 37777,
  49152, 49153, 50000, 52869, 55555,
];

const BANNER_WAIT_MS = 700;

export type PortState = 'open' | 'closed' | 'filtered' | 'unreachable';

export interface PortRecord {
  port: number;
  state: PortState;
  declared: boolean;
  service?: string;
  identifiedBy?: string;
  banner?: string;
}

export function portsToScan(ctx: Pick<ProbeContext, 'device'>): { ports: number[]; spec: string } {
  const declared = ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => s.port);
  const spec = ctx.device.scan?.tcp;
  const extra = spec ? (parsePortSpec(spec) ?? []) : COMMON_IOT_TCP_PORTS;
  const ports = [...new Set([...declared, ...extra])].sort((a, b) => a - b);
  return { ports, spec: spec ?? 'declared ports + common IoT ports' };
}

async function scanPort(ctx: ProbeContext, port: number, declared: boolean): Promise<PortRecord> {
  try {
    const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
    try {
      const banner = await readBanner(sock, BANNER_WAIT_MS);
      const id = identifyBanner(banner);
      return { port, state: 'open', declared, service: id?.service, identifiedBy: id?.how, banner: banner.length ? printable(banner) : undefined };
    } finally {
      sock.destroy();
    }
  } catch (err) {
    if (!(err instanceof ConnectError)) throw err;
    if (err.kind === 'aborted') throw err;
    const state: PortState = err.kind === 'refused' || err.kind === 'reset' ? 'closed' : err.kind === 'timeout' ? 'filtered' : 'unreachable';
    return { port, state, declared };
  }
}

export const tcpPortsProbe: Probe = {
  id: 'tcp-ports',
  title: 'TCP service discovery (built-in connect scan)',
  needs: ['host'],
  clauses: ['EN 303 645 5.6-1', 'TS 103 701 5.6-1-2'],
  async run(ctx) {
    const { ports, spec } = portsToScan(ctx);
    const declaredSet = new Set(ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => s.port));
    ctx.progress(`scanning ${ports.length} TCP ports`);
    // Declared ports first: if none of them answers the device is down or
    // filtered, and scanning the rest would only burn the deadline.
    const declaredPorts = ports.filter((p) => declaredSet.has(p));
    const first = await mapLimit(declaredPorts, ctx.connector.slots.limit, (p) => scanPort(ctx, p, true));
    let aborted: string | undefined;
    let rest: PortRecord[] = [];
    if (declaredPorts.length > 0 && first.every((r) => r.state === 'filtered' || r.state === 'unreachable')) {
      aborted = `none of the ${declaredPorts.length} declared TCP ports answered (${first[0].state}); the device looks down or filtered, so the rest of the scan was not attempted`;
    } else {
      rest = await mapLimit(ports.filter((p) => !declaredSet.has(p)), ctx.connector.slots.limit, (p) => scanPort(ctx, p, false));
    }
    const all = [...first, ...rest].sort((a, b) => a.port - b.port);
    const count = (s: PortState): number => all.filter((r) => r.state === s).length;
    const observations: Observation[] = all
      .filter((r) => r.state === 'open' || r.declared)
      .map((r) => ({
        kind: 'tcp-port',
        port: r.port,
        protocol: r.service,
        summary: `TCP ${r.port} ${r.state}${r.service ? ` (${r.service}: ${r.identifiedBy})` : ''}${r.declared ? '' : ' — not declared'}`,
        data: { ...r },
      }));
    observations.push({
      kind: 'tcp-scan',
      summary: `scanned ${all.length} of ${ports.length} TCP ports (${spec}): ${count('open')} open, ${count('closed')} closed, ${count('filtered')} filtered, ${count('unreachable')} unreachable`,
      data: {
        scanner: 'built-in connect scan',
        spec,
        planned: ports.length,
        scanned: all.length,
        open: all.filter((r) => r.state === 'open').map((r) => r.port),
        closed: count('closed'),
        filtered: count('filtered'),
        unreachable: count('unreachable'),
        aborted,
      },
    });
    return { observations };
  },
};
