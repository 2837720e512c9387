/**
 * udp-services: the UDP services IoT devices usually expose, asked with real
 * requests (a UDP port only answers a question it understands), plus every
 * UDP port the device file declares.
 */
import { randomBytes } from 'node:crypto';
import { parsePortSpec } from '../harness/device-file/schema';
import { mapLimit } from '../harness/limiter';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { canariesIn } from './util/canaries';
import { printable } from './util/banner';
import dnsPacket from 'dns-packet';
import coapPacket from 'coap-packet';

/** SNMPv2c GetRequest for sysDescr.0 (1.3.6.1.2.1.1.1.0) with community "public" (RFC 3416, BER per X.690). */
function snmpGet(): Buffer {
  const id = randomBytes(4);
  const varbind = Buffer.from([0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00, 0x05, 0x00]);
  const pdu = Buffer.concat([Buffer.from([0x02, 0x04]), id, Buffer.from([0x02, 0x01, 0x00, 0x02, 0x01, 0x00, 0x30, varbind.length]), varbind]);
  const body = Buffer.concat([Buffer.from([0x02, 0x01, 0x01, 0x04, 0x06]), Buffer.from('public'), Buffer.from([0xa0, pdu.length]), pdu]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

/** SSDP M-SEARCH (UPnP Device Architecture 2.0 §1.3.2), sent unicast. */
const SSDP = (): Buffer => Buffer.from('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n');

/**
 * DNS-SD service enumeration, _services._dns-sd._udp.local PTR (RFC 6763 §9), with dns-packet. Sent from an
 * ephemeral port it is a legacy unicast query (RFC 6762 §6.7): the responder answers to that port, echoing the id.
 */
function mdnsQuery(): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: randomBytes(2).readUInt16BE(0),
    flags: 0,
    questions: [{ type: 'PTR', name: '_services._dns-sd._udp.local', class: 'IN' }],
  });
}

/** CoAP confirmable GET /.well-known/core (RFC 7252 §3, RFC 6690 §4), with coap-packet. */
function coapDiscovery(): Buffer {
  return coapPacket.generate({
    confirmable: true,
    code: 'GET',
    messageId: randomBytes(2).readUInt16BE(0),
    token: randomBytes(4),
    options: [
      { name: 'Uri-Path', value: Buffer.from('.well-known') },
      { name: 'Uri-Path', value: Buffer.from('core') },
    ],
  });
}

/** What an answer says, decoded by the protocol's own library: the services an mDNS responder lists, the resources a CoAP server links. */
export function decodeAnswer(service: string | undefined, answer: Buffer): string | undefined {
  try {
    if (service === 'mdns') {
      const p = dnsPacket.decode(answer);
      const records = [...(p.answers ?? []), ...(p.additionals ?? [])].slice(0, 50);
      const said = records.map((r) => {
        const data = 'data' in r ? r.data : undefined;
        const text = Array.isArray(data)
          ? data.map((d) => (Buffer.isBuffer(d) ? d.toString('latin1') : String(d))).join(' ')
          : typeof data === 'string'
            ? data
            : data && typeof data === 'object' && 'target' in data
              ? `${String(data.target)}:${String(data.port)}`
              : '';
        return `${r.type} ${r.name}${text ? ` ${text}` : ''}`;
      });
      return said.length ? said.join('; ').slice(0, 2000) : 'an mDNS answer with no records';
    }
    if (service === 'coap') {
      const p = coapPacket.parse(answer);
      return `CoAP ${p.code}${p.payload.length ? `: ${p.payload.toString('utf8').slice(0, 2000)}` : ''}`;
    }
  } catch (err) {
    return `not a well-formed ${service} answer (${(err as Error).message})`;
  }
  return undefined;
}

interface UdpKnown {
  service: string;
  request: () => Buffer;
}
export const UDP_DEFAULTS: Record<number, UdpKnown> = {
  161: { service: 'snmp', request: snmpGet },
  1900: { service: 'ssdp', request: SSDP },
  5353: { service: 'mdns', request: mdnsQuery },
  5683: { service: 'coap', request: coapDiscovery },
};
const BY_PROTOCOL: Record<string, UdpKnown> = {
  snmp: UDP_DEFAULTS[161],
  ssdp: UDP_DEFAULTS[1900],
  upnp: UDP_DEFAULTS[1900],
  mdns: UDP_DEFAULTS[5353],
  coap: UDP_DEFAULTS[5683],
};

export const UDP_STATES = ['open', 'closed', 'open|filtered', 'unreachable'] as const;
export type UdpState = (typeof UDP_STATES)[number];

/** One UDP port asked with a real request: answered (open), ICMP unreachable (closed), or silent (open|filtered). */
export const UdpPortFact = defineFact(
  'udp-port',
  z.object({
    port: z.number().int(),
    state: z.enum(UDP_STATES),
    declared: z.boolean(),
    service: z.string().optional(),
    answer: z.string().optional(),
    /** The answer decoded (mDNS records, CoAP resources), when the protocol is one starbench decodes. */
    decoded: z.string().optional(),
    /** Personal-data canary categories in the answer (a discovery reply tells the whole network). */
    canaries: z.array(z.string()).optional(),
  }),
);
export type UdpRecord = z.infer<typeof UdpPortFact.schema>;

export const UdpScanFact = defineFact(
  'udp-scan',
  z.object({ ports: z.array(z.number().int()), open: z.array(z.number().int()), silent: z.array(z.number().int()), unreachable: z.array(z.number().int()) }),
  (s) => (s.unreachable.length > 0 ? `UDP ${s.unreachable.join(', ')} unreachable (no route)` : null),
);

const TRIES = 2;

async function ask(ctx: ProbeContext, port: number, known: UdpKnown | undefined): Promise<{ state: UdpState; answer?: Buffer }> {
  for (let i = 0; i < TRIES; i++) {
    const r = await ctx.connector.udp(port, known ? known.request() : Buffer.alloc(0), { signal: ctx.signal });
    if (r.kind === 'answer') return { state: 'open', answer: r.data };
    if (r.kind === 'closed') return { state: 'closed' };
    if (r.kind === 'unreachable') return { state: 'unreachable' };
  }
  return { state: 'open|filtered' };
}

export const udpServicesProbe: Probe = {
  id: 'udp-services',
  title: 'UDP services (SNMP, SSDP, mDNS, CoAP and declared ports) asked with real requests',
  needs: ['host'],
  facts: [UdpPortFact, UdpScanFact],
  clauses: ['EN 303 645 5.6-1', 'TS 103 701 5.6-1-2'],
  async run(ctx) {
    const declared = new Map(ctx.device.services.filter((s) => s.transport === 'udp').map((s) => [s.port, s.protocol]));
    const extra = ctx.device.scan?.udp ? (parsePortSpec(ctx.device.scan.udp) ?? []) : Object.keys(UDP_DEFAULTS).map(Number);
    const ports = [...new Set([...declared.keys(), ...extra])].sort((a, b) => a - b);
    const results = await mapLimit(ports, ctx.connector.slots.limit, async (port): Promise<UdpRecord> => {
      const known = BY_PROTOCOL[declared.get(port) ?? ''] ?? UDP_DEFAULTS[port];
      const r = await ask(ctx, port, known);
      const service = r.state === 'open' ? (known?.service ?? declared.get(port) ?? 'unknown') : undefined;
      const decoded = r.answer ? decodeAnswer(service, r.answer) : undefined;
      return {
        port,
        state: r.state,
        declared: declared.has(port),
        service,
        answer: r.answer ? printable(r.answer, 120) : undefined,
        ...(decoded ? { decoded } : {}),
        canaries: r.answer ? [...new Set([...canariesIn(ctx.device, r.answer.toString('latin1')), ...canariesIn(ctx.device, decoded ?? '')])] : undefined,
      };
    });
    const observations: Observation[] = results
      .filter((r) => r.state !== 'closed' || r.declared)
      .map((r) => ({
        kind: 'udp-port',
        port: r.port,
        protocol: r.service,
        summary: `UDP ${r.port} ${r.state}${r.service ? ` (${r.service} answered${r.decoded ? `: ${r.decoded.slice(0, 120)}` : ''})` : ''}${r.declared ? '' : ' — not declared'}`,
        data: { ...r },
      }));
    observations.push({
      kind: 'udp-scan',
      summary: `asked ${ports.length} UDP ports: ${results.filter((r) => r.state === 'open').length} answered, ${results.filter((r) => r.state === 'closed').length} closed, ${results.filter((r) => r.state === 'open|filtered').length} silent`,
      data: {
        ports,
        open: results.filter((r) => r.state === 'open').map((r) => r.port),
        silent: results.filter((r) => r.state === 'open|filtered').map((r) => r.port),
        unreachable: results.filter((r) => r.state === 'unreachable').map((r) => r.port),
      },
    });
    return { observations };
  },
};
