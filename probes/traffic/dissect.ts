/**
 * Facts from a capture, dissected by tshark (`-T ek`, one JSON object per
 * packet, only the fields read here): every destination the device itself
 * contacted, what its TLS (and DTLS) client offered, HTTP and MQTT requests,
 * DNS names, and the canaries, secrets and credentials that crossed in clear.
 *
 * What could not be read is said, never taken for "nothing there": a flow
 * longer than what is kept, frames cut by the snap length, compressed HTTP
 * bodies, masked WebSocket frames, HTTP/2, a malformed packet, a TLS record
 * tshark did not dissect.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import readline from 'node:readline';
import { canaryForms } from '../util/canaries';
import { suiteName, weakness } from '../tls/suites';
import type { ClearItem, TrafficDestination } from '../../harness/traffic';

const FIELDS = [
  'frame.number',
  'frame.len',
  'frame.cap_len',
  'frame.protocols',
  'eth.src',
  'eth.dst',
  'ip.src',
  'ip.dst',
  'ipv6.src',
  'ipv6.dst',
  'tcp.srcport',
  'tcp.dstport',
  'udp.srcport',
  'udp.dstport',
  'tcp.stream',
  'udp.stream',
  'tcp.flags.syn',
  'tcp.flags.ack',
  'tcp.seq',
  'tcp.payload',
  'udp.payload',
  'icmp.type',
  'icmpv6.type',
  'data.data',
  'dns.flags.response',
  'dns.qry.name',
  'dns.a',
  'dns.aaaa',
  'http.host',
  'http.request.method',
  'http.request.uri',
  'http.authorization',
  'http.content_encoding',
  'http.content_type',
  'http.file_data',
  'mqtt.msgtype',
  'mqtt.topic',
  'mqtt.username',
  'mqtt.passwd',
  'tls.handshake.type',
  'tls.handshake.extensions_server_name',
  'tls.handshake.version',
  'tls.handshake.extensions.supported_version',
  'tls.handshake.ciphersuite',
  'tls.handshake.ja3',
  'tls.alert_message.desc',
  'dtls.handshake.type',
  'dtls.handshake.version',
  'dtls.handshake.ciphersuite',
  'websocket.mask',
  'ftp.request.command',
  'ssh.message_code',
  'smtp.auth.password',
  'smtp.auth.username_password',
] as const;

/** Per flow, at most this much of what the device sent is kept to search; in all, at most TOTAL_KEPT. */
const FLOW_KEPT = 4 * 1024 * 1024;
const TOTAL_KEPT = 64 * 1024 * 1024;
/** A capture of more packets than this is read up to here, and says so. */
const MAX_PACKETS = 2_000_000;

export interface Needles {
  /** name → value, by kind: never written anywhere, only searched for. */
  personalData: Record<string, string>;
  secrets: Record<string, string>;
  credentials: Record<string, string>;
}

/** Values shorter than this are not searched for: they would match by chance. */
export const MIN_NEEDLE = 4;

export interface DissectInput {
  tshark: string;
  pcap: string;
  device: string[];
  /** The device's MAC (traffic.mac): its packets from any address count as its own. */
  mac?: string;
  bench: string[];
  /** The device's declared service ports: a connection seen mid-way on one of them was opened to the device. */
  servicePorts?: { tcp: number[]; udp: number[] };
  /** The bench's own control connection: a SYN from the bench to this device port. */
  controlPort?: number;
  needles: Needles;
  phase: 'watch' | 'mitm';
  signal?: AbortSignal;
  timeoutMs: number;
  /** tshark `-d` rules for a second pass: ports where the first pass saw TLS, MQTT or HTTP/2 by their opening bytes only. */
  decodeAs?: string[];
}

export interface Dissected {
  destinations: TrafficDestination[];
  dnsQueries: Array<{ name: string; answers: string[]; frame: number }>;
  controlSeen: boolean;
  deviceFlows: number;
  alerts: Array<{ frame: number; alert: string }>;
  packets: number;
  /** The dissection stopped at MAX_PACKETS. */
  partial: boolean;
  /** Frames whose payload carried (a part of) a value searched for: masked whole in the kept capture. */
  maskFrames: Map<number, Buffer[]>;
}

type Layers = Partial<Record<string, string[]>>;

const TLS_VERSIONS: Record<string, string> = {
  '0x0300': 'SSLv3',
  '0x0301': 'TLSv1.0',
  '0x0302': 'TLSv1.1',
  '0x0303': 'TLSv1.2',
  '0x0304': 'TLSv1.3',
  '0xfeff': 'DTLSv1.0',
  '0xfefd': 'DTLSv1.2',
  '0xfefc': 'DTLSv1.3',
};
export const VERSION_RANK = ['SSLv2', 'SSLv3', 'TLSv1.0', 'DTLSv1.0', 'TLSv1.1', 'TLSv1.2', 'DTLSv1.2', 'TLSv1.3', 'DTLSv1.3'];

/** RFC 8446 §4.1.2 alert descriptions, for the evidence. */
const ALERTS: Record<number, string> = {
  0: 'close_notify',
  10: 'unexpected_message',
  20: 'bad_record_mac',
  40: 'handshake_failure',
  42: 'bad_certificate',
  43: 'unsupported_certificate',
  44: 'certificate_revoked',
  45: 'certificate_expired',
  46: 'certificate_unknown',
  47: 'illegal_parameter',
  48: 'unknown_ca',
  49: 'access_denied',
  50: 'decode_error',
  51: 'decrypt_error',
  70: 'protocol_version',
  71: 'insufficient_security',
  80: 'internal_error',
  86: 'inappropriate_fallback',
  90: 'user_canceled',
  109: 'missing_extension',
  112: 'unrecognized_name',
  116: 'certificate_required',
};
export const alertName = (n: number): string => ALERTS[n] ?? `alert ${n}`;

function tlsVersion(v: string): string {
  const hex = v.startsWith('0x') ? v.toLowerCase() : `0x${Number(v).toString(16).padStart(4, '0')}`;
  // GREASE values (0x?a?a) are not versions.
  return TLS_VERSIONS[hex] ?? (/^0x[0-9a-f]a[0-9a-f]a$/.test(hex) ? '' : hex);
}

/** Stays on the device's own segment: multicast, broadcast, link-local. */
export function isLocal(addr: string): boolean {
  if (net.isIPv4(addr)) {
    const [a, b] = addr.split('.').map(Number);
    return a >= 224 || (a === 169 && b === 254) || addr === '255.255.255.255';
  }
  const l = addr.toLowerCase();
  return l.startsWith('ff') || l.startsWith('fe8') || l.startsWith('fe9') || l.startsWith('fea') || l.startsWith('feb');
}

/** Hex bytes as tshark prints them (with or without colons). */
function hexBytes(v: string): Buffer {
  return Buffer.from(v.replace(/:/g, ''), 'hex');
}

const num = (l: Layers, f: string): number | undefined => {
  const v = l[f.replace(/\./g, '_')]?.[0];
  return v === undefined ? undefined : Number(v);
};
const all = (l: Layers, f: string): string[] => l[f.replace(/\./g, '_')] ?? [];
const one = (l: Layers, f: string): string | undefined => all(l, f)[0];

/** What a URL's query must not carry in clear. */
const SECRET_QUERY = /[?&](pass(?:word|wd)?|pwd|token|access_token|api_?key|secret|auth|key)=([^&#]*)/i;
/** Paths a firmware download takes. */
const FIRMWARE_PATH = /\.(bin|img|fw|swu|trx|chk|pkg|ubi|tgz|tar|zip|gz|hex)(?:[?#]|$)|firmware|\/fw\/|\/ota\/|upgrade/i;
/** Bodies the search cannot read as they are. */
const OPAQUE_TYPES = /application\/(?:gzip|x-gzip|zip|x-zip|zstd|x-xz|x-bzip2|x-7z|octet-stream\+gzip)|\+gzip/i;

/** A URI as evidence: query values that look like secrets are replaced, and it is bounded. */
function safeUri(uri: string): string {
  return uri.replace(new RegExp(SECRET_QUERY.source, 'gi'), (m, k: string) => `${m[0]}${k}=…`).slice(0, 200);
}

interface Segment {
  seq?: number;
  bytes: Buffer;
  frame: number;
}

interface Flow {
  id: string;
  transport: 'tcp' | 'udp' | 'icmp';
  /** [device end, the other end] */
  device?: { addr: string; port: number };
  peer?: { addr: string; port: number };
  /** Who opened it, when the capture shows it: the SYN's sender, or for UDP/ICMP whoever spoke first. */
  opener?: 'device' | 'peer';
  firstFrame: number;
  packetsOut: number;
  bytesOut: number;
  bytesIn: number;
  payloadBytes: number;
  protocols: Set<string>;
  segments: Segment[];
  kept: number;
  /** HTTP bodies as tshark rebuilt them (de-chunked, inflated), searched apart from the byte stream. */
  bodies: Array<{ text: string; frame: number }>;
  /** Names the device asked DNS for on this flow. */
  queried: Array<{ name: string; frame: number }>;
  tls?: { sni: Set<string>; versions: Set<string>; suites: Set<number>; ja3: Set<string>; frames: number[] };
  http: { hosts: Set<string>; requests: Array<{ method: string; uri: string; frame: number }> };
  mqtt: { topics: Set<string>; usernames: Set<string> };
  clear: ClearItem[];
  firmware: Array<{ uri: string; frame: number }>;
  opaque: Set<string>;
  /** The device began an SSH key exchange (KEXINIT): what follows is encrypted. */
  sshKex: boolean;
  partial?: string;
  firstPayload?: Buffer;
}

const PROTOCOL_SKIP = new Set([
  'eth',
  'ethertype',
  'ip',
  'ipv6',
  'tcp',
  'udp',
  'data',
  'sll',
  'vlan',
  'tcp.segments',
  'x509sat',
  'x509af',
  'x509ce',
  'pkix1explicit',
  'pkix1implicit',
  '_ws.malformed',
]);

function protocolOf(flow: Flow): string {
  for (const p of [
    'tls',
    'dtls',
    'mqtt',
    'http2',
    'http',
    'websocket',
    'dns',
    'mdns',
    'ntp',
    'ssdp',
    'dhcp',
    'ftp',
    'telnet',
    'coap',
    'quic',
    'icmp',
    'icmpv6',
  ])
    if (flow.protocols.has(p)) return p;
  return [...flow.protocols][0] ?? flow.transport;
}

/** The device's bytes in sequence order: out-of-order segments put back, a retransmission keeping its longest copy. */
function stream(f: Flow): { bytes: Buffer; frameAt(offset: number): number; framesIn(start: number, end: number): Array<{ frame: number; bytes: Buffer }> } {
  const segs = f.transport === 'tcp' && f.segments.every((s) => s.seq !== undefined) ? [...f.segments].sort((a, b) => a.seq! - b.seq!) : f.segments;
  const parts: Array<{ start: number; bytes: Buffer; frame: number; whole: Buffer }> = [];
  let end = 0;
  const base = f.transport === 'tcp' && segs[0]?.seq !== undefined ? segs[0].seq : 0;
  for (const s of segs) {
    const at = s.seq !== undefined && f.transport === 'tcp' ? s.seq - base : end;
    const tail = at + s.bytes.length;
    if (tail <= end) continue;
    const from = Math.max(0, end - at);
    parts.push({ start: end, bytes: s.bytes.subarray(from), frame: s.frame, whole: s.bytes });
    end = tail;
  }
  const bytes = Buffer.concat(parts.map((p) => p.bytes));
  return {
    bytes,
    frameAt: (offset) => (parts.find((p) => offset < p.start + p.bytes.length) ?? parts[parts.length - 1])?.frame ?? f.firstFrame,
    framesIn: (start, stop) => parts.filter((p) => p.start < stop && p.start + p.bytes.length > start).map((p) => ({ frame: p.frame, bytes: p.whole })),
  };
}

const DECODERS = ['shift_jis', 'euc-jp', 'utf-16le'].flatMap((enc) => {
  try {
    return [new TextDecoder(enc)];
  } catch {
    return [];
  }
});

/** Where a value is in the bytes: every form canaryForms knows, case-insensitively for the readable ones, and in the legacy Japanese encodings and UTF-16. */
function locate(text: string, lower: string, decoded: string[], value: string): { at: number; plain: boolean } | null {
  const forms = canaryForms(value);
  for (const form of forms) {
    const at = text.indexOf(form);
    if (at >= 0) return { at, plain: form === value || form === Buffer.from(value, 'utf8').toString('latin1') };
  }
  // Case, '+' for a space (form encoding), %2c for %2C: the readable forms, compared in lower case.
  const readable = [value, encodeURIComponent(value), encodeURIComponent(value).replace(/%20/g, '+'), value.replace(/ /g, '+')].map((f) =>
    Buffer.from(f, 'utf8').toString('latin1').toLowerCase(),
  );
  for (const form of readable) {
    const at = lower.indexOf(form);
    if (at >= 0) return { at, plain: false };
  }
  const low = value.toLowerCase();
  // at -1: found only once the bytes were decoded in another character set.
  if (decoded.some((d) => d.toLowerCase().includes(low))) return { at: -1, plain: false };
  return null;
}

/** Every needle found in what the device sent on one flow; the frames to mask. */
function searchFlow(f: Flow, needles: Needles, mask: Map<number, Buffer[]>): ClearItem[] {
  const s = stream(f);
  const text = s.bytes.toString('latin1');
  const lower = text.toLowerCase();
  const nonAscii = s.bytes.some((b) => b >= 0x80 || b === 0);
  const decoded = nonAscii ? DECODERS.map((d) => d.decode(s.bytes)) : [];
  const found: ClearItem[] = [];
  const markAll = (): void => {
    for (const seg of f.segments) mask.set(seg.frame, [...(mask.get(seg.frame) ?? []), seg.bytes]);
  };
  const look = (kind: ClearItem['kind'], values: Record<string, string>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value.length < MIN_NEEDLE) continue;
      const hit = locate(text, lower, decoded, value);
      if (hit) {
        const frame = hit.at >= 0 ? s.frameAt(hit.at) : f.firstFrame;
        found.push({ kind, name, how: hit.at < 0 ? 'in another character set' : hit.plain ? 'as is' : 'encoded', frame });
        if (hit.at >= 0) for (const p of s.framesIn(hit.at, hit.at + Buffer.byteLength(value))) mask.set(p.frame, [...(mask.get(p.frame) ?? []), p.bytes]);
        else markAll();
        continue;
      }
      // HTTP bodies tshark rebuilt, and the names the device asked DNS for.
      const other = [
        ...f.bodies.map((b) => ({ ...b, how: 'in an HTTP body tshark rebuilt (de-chunked, inflated)' })),
        ...f.queried.map((q) => ({ text: q.name, frame: q.frame, how: 'in a DNS query name' })),
      ];
      const forms = canaryForms(value).map((x) => x.toLowerCase());
      const inOther = other.find((o) => forms.some((x) => o.text.toLowerCase().includes(x)));
      if (inOther) {
        found.push({ kind, name, how: inOther.how, frame: inOther.frame });
        markAll();
      }
    }
  };
  look('personal-data', needles.personalData);
  look('secret', needles.secrets);
  look('credential', needles.credentials);
  return found;
}

/** Run tshark over a capture and build the facts. Rejects when tshark cannot read it. */
export async function dissect(input: DissectInput): Promise<Dissected> {
  const device = new Set(input.device.map((a) => a.toLowerCase()));
  const bench = new Set(input.bench.map((a) => a.toLowerCase()));
  const mac = input.mac?.toLowerCase();
  const served = { tcp: new Set(input.servicePorts?.tcp ?? []), udp: new Set(input.servicePorts?.udp ?? []) };
  // HTTP on any port (a device's cloud on 8081): tshark's own heuristic, off by default.
  const args = [
    '-r',
    input.pcap,
    '-n',
    '--enable-heuristic',
    'http_tcp',
    ...(input.decodeAs ?? []).flatMap((d) => ['-d', d]),
    '-T',
    'ek',
    ...FIELDS.flatMap((f) => ['-e', f]),
  ];
  const child = spawn(input.tshark, args, { stdio: ['ignore', 'pipe', 'pipe'], signal: input.signal });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (c: string) => {
    if (stderr.length < 16 * 1024) stderr += c;
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), input.timeoutMs);
  const exited = new Promise<number | null>((resolve) => {
    child.once('close', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });

  const flows = new Map<string, Flow>();
  const dns = new Map<string, { name: string; answers: Set<string>; frame: number }>();
  const names = new Map<string, Set<string>>();
  const alerts: Array<{ frame: number; alert: string }> = [];
  let controlSeen = false;
  let packets = 0;
  let partial = false;
  let kept = 0;

  const rl = readline.createInterface({ input: child.stdout, crlfDelay: Infinity });
  for await (const line of rl) {
    if (!line.startsWith('{"timestamp"')) continue;
    if (packets >= MAX_PACKETS) {
      partial = true;
      child.kill('SIGKILL');
      break;
    }
    packets += 1;
    let l: Layers;
    try {
      l = (JSON.parse(line) as { layers: Layers }).layers;
    } catch {
      continue;
    }
    const frame = num(l, 'frame.number') ?? packets;
    const src = (one(l, 'ip.src') ?? one(l, 'ipv6.src'))?.toLowerCase();
    const dst = (one(l, 'ip.dst') ?? one(l, 'ipv6.dst'))?.toLowerCase();
    if (!src || !dst) continue;
    const protocols = (one(l, 'frame.protocols') ?? '').split(':');
    const tcp = one(l, 'tcp.stream') !== undefined;
    const udp = !tcp && one(l, 'udp.stream') !== undefined;
    const icmp = !tcp && !udp && (num(l, 'icmp.type') !== undefined || num(l, 'icmpv6.type') !== undefined);
    const transport: Flow['transport'] | undefined = tcp ? 'tcp' : udp ? 'udp' : icmp ? 'icmp' : undefined;
    if (!transport) continue;
    const sport = transport === 'icmp' ? 0 : (num(l, `${transport}.srcport`) ?? 0);
    const dport = transport === 'icmp' ? 0 : (num(l, `${transport}.dstport`) ?? 0);
    const syn = num(l, 'tcp.flags.syn') === 1 && num(l, 'tcp.flags.ack') === 0;
    if (syn && bench.has(src) && device.has(dst) && dport === input.controlPort) controlSeen = true;
    // By address, or by the declared MAC (its IPv6 from addresses the device file does not name): on a link, only the
    // device sends with its MAC.
    const fromDevice = device.has(src) || (mac !== undefined && one(l, 'eth.src')?.toLowerCase() === mac);
    const toDevice = device.has(dst) || (mac !== undefined && one(l, 'eth.dst')?.toLowerCase() === mac);
    if (!fromDevice && !toDevice) continue;
    if (fromDevice) device.add(src);
    const deviceEnd = fromDevice ? { addr: src, port: sport } : { addr: dst, port: dport };
    const peerEnd = fromDevice ? { addr: dst, port: dport } : { addr: src, port: sport };
    const id = transport === 'icmp' ? `icmp:${deviceEnd.addr}>${peerEnd.addr}` : `${transport}:${one(l, `${transport}.stream`)}`;
    let flow = flows.get(id);
    if (!flow) {
      flow = {
        id,
        transport,
        device: deviceEnd,
        peer: peerEnd,
        firstFrame: frame,
        packetsOut: 0,
        bytesOut: 0,
        bytesIn: 0,
        payloadBytes: 0,
        protocols: new Set(),
        segments: [],
        kept: 0,
        bodies: [],
        queried: [],
        http: { hosts: new Set(), requests: [] },
        mqtt: { topics: new Set(), usernames: new Set() },
        clear: [],
        firmware: [],
        opaque: new Set(),
        sshKex: false,
      };
      flows.set(id, flow);
    }
    if (syn) flow.opener = fromDevice ? 'device' : 'peer';
    for (const p of protocols) if (p && !PROTOCOL_SKIP.has(p)) flow.protocols.add(p);
    if (protocols.includes('_ws.malformed'))
      flow.opaque.add(`a packet tshark found malformed as ${protocols.filter((p) => p !== '_ws.malformed').pop() ?? 'data'}`);
    const len = num(l, 'frame.len') ?? 0;
    const capLen = num(l, 'frame.cap_len') ?? len;
    if (!fromDevice) {
      flow.bytesIn += len;
      // DNS answers to the device: which names its later connections went to.
      if (num(l, 'dns.flags.response') === 1) {
        const qname = one(l, 'dns.qry.name');
        if (qname) {
          const q = dns.get(qname.toLowerCase());
          for (const a of [...all(l, 'dns.a'), ...all(l, 'dns.aaaa')]) {
            q?.answers.add(a.toLowerCase());
            const set = names.get(a.toLowerCase()) ?? new Set<string>();
            set.add(qname.toLowerCase().replace(/\.$/, ''));
            names.set(a.toLowerCase(), set);
          }
        }
      }
      continue;
    }
    flow.packetsOut += 1;
    flow.bytesOut += len;
    if (capLen < len) flow.partial ??= `frame ${frame} was cut by the snap length (${capLen} of ${len} bytes kept)`;
    for (const a of all(l, 'tls.alert_message.desc')) alerts.push({ frame, alert: alertName(Number(a)) });
    const payload = one(l, 'tcp.payload') ?? one(l, 'udp.payload') ?? (transport === 'icmp' ? one(l, 'data.data') : undefined);
    if (payload) {
      const b = hexBytes(payload);
      flow.payloadBytes += b.length;
      flow.firstPayload ??= b;
      if (flow.kept >= FLOW_KEPT || kept >= TOTAL_KEPT)
        flow.partial ??= `more than ${FLOW_KEPT / 1024 / 1024} MiB sent on one connection: only the first part was searched`;
      else {
        const take = b.subarray(0, Math.min(FLOW_KEPT - flow.kept, TOTAL_KEPT - kept));
        flow.segments.push({ seq: num(l, 'tcp.seq'), bytes: take, frame });
        flow.kept += take.length;
        kept += take.length;
      }
    }
    // The HTTP body as tshark rebuilt it (de-chunked, inflated), searched on its own.
    for (const body of all(l, 'http.file_data')) if (flow.bodies.length < 1000) flow.bodies.push({ text: body.slice(0, FLOW_KEPT), frame });
    for (const enc of all(l, 'http.content_encoding'))
      if (/gzip|deflate|br|compress|zstd/i.test(enc))
        flow.opaque.add(`an HTTP body sent ${enc}-compressed (read only as far as tshark could inflate it as text)`);
    for (const type of all(l, 'http.content_type')) if (OPAQUE_TYPES.test(type)) flow.opaque.add(`an HTTP body of type ${type.slice(0, 60)}`);
    if (all(l, 'websocket.mask').some((m) => m === '1' || m === 'true')) flow.opaque.add('masked WebSocket frames');
    if (protocols.includes('http2')) flow.opaque.add('HTTP/2 (HPACK-compressed headers)');
    if (num(l, 'dns.flags.response') === 0) {
      for (const qname of all(l, 'dns.qry.name')) {
        if (!dns.has(qname.toLowerCase())) dns.set(qname.toLowerCase(), { name: qname.toLowerCase(), answers: new Set(), frame });
        if (flow.queried.length < 200) flow.queried.push({ name: qname, frame });
      }
    }
    const hs = all(l, 'tls.handshake.type');
    const dhs = all(l, 'dtls.handshake.type');
    if (hs.includes('1') || dhs.includes('1')) {
      const dtls = !hs.includes('1');
      flow.tls ??= { sni: new Set(), versions: new Set(), suites: new Set(), ja3: new Set(), frames: [] };
      for (const s of all(l, 'tls.handshake.extensions_server_name')) flow.tls.sni.add(s.toLowerCase().replace(/\.$/, ''));
      const supported = dtls ? [] : all(l, 'tls.handshake.extensions.supported_version').map(tlsVersion).filter(Boolean);
      const legacy = all(l, dtls ? 'dtls.handshake.version' : 'tls.handshake.version')
        .map(tlsVersion)
        .filter(Boolean);
      // The supported_versions extension, when present, is the list offered; else the ClientHello's version is the highest.
      for (const v of supported.length ? supported : legacy.slice(0, 1)) flow.tls.versions.add(v);
      for (const c of all(l, dtls ? 'dtls.handshake.ciphersuite' : 'tls.handshake.ciphersuite')) flow.tls.suites.add(Number(c));
      for (const j of all(l, 'tls.handshake.ja3')) flow.tls.ja3.add(j);
      flow.tls.frames.push(frame);
    }
    for (const h of all(l, 'http.host')) flow.http.hosts.add(h.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, ''));
    // Every request in the packet (pipelined requests share one).
    const methods = all(l, 'http.request.method');
    const uris = all(l, 'http.request.uri');
    uris.forEach((uri, i) => {
      const method = methods[i] ?? methods[0] ?? '?';
      if (flow.http.requests.length < 200) flow.http.requests.push({ method, uri: safeUri(uri), frame });
      if (FIRMWARE_PATH.test(uri.replace(/\?.*/, ''))) flow.firmware.push({ uri: safeUri(uri), frame });
      const q = SECRET_QUERY.exec(uri);
      if (q && q[2]) flow.clear.push({ kind: 'token', name: `URL parameter ${q[1]}`, how: `in the request URI (${method})`, frame });
    });
    for (const a of all(l, 'http.authorization')) {
      const scheme = a.split(/\s+/)[0]?.toLowerCase();
      if (scheme === 'basic') {
        const user = Buffer.from(a.split(/\s+/)[1] ?? '', 'base64')
          .toString('utf8')
          .split(':')[0];
        flow.clear.push({ kind: 'authorization', name: `HTTP Basic password of "${user.slice(0, 40)}"`, how: 'Authorization: Basic header', frame });
      } else if (scheme === 'bearer') flow.clear.push({ kind: 'token', name: 'HTTP bearer token', how: 'Authorization: Bearer header', frame });
    }
    for (const t of all(l, 'mqtt.topic')) flow.mqtt.topics.add(t.slice(0, 200));
    for (const u of all(l, 'mqtt.username')) flow.mqtt.usernames.add(u.slice(0, 80));
    if (all(l, 'mqtt.passwd').length) flow.clear.push({ kind: 'authorization', name: 'MQTT CONNECT password', how: 'MQTT CONNECT in clear', frame });
    if (all(l, 'ftp.request.command').some((c) => c.toUpperCase() === 'PASS'))
      flow.clear.push({ kind: 'authorization', name: 'FTP password', how: 'FTP PASS in clear', frame });
    if (all(l, 'ssh.message_code').includes('20')) flow.sshKex = true;
    if (all(l, 'smtp.auth.password').length || all(l, 'smtp.auth.username_password').length)
      flow.clear.push({ kind: 'authorization', name: 'SMTP AUTH password', how: 'SMTP AUTH in clear', frame });
    // Bytes on a DNS port that are not a DNS query: not the infrastructure tshark's label says.
    if (payload && protocols.includes('dns') && all(l, 'dns.qry.name').length === 0) flow.opaque.add('bytes on a DNS port that are not a DNS query');
  }
  clearTimeout(timer);
  const code = await exited;
  if (!partial && code !== 0)
    throw new Error(
      `tshark could not read ${input.pcap}: ${
        stderr
          .replace(/Running as user[^\n]*\n?/g, '')
          .trim()
          .split('\n')
          .slice(-2)
          .join(' ') || `exit ${code}`
      }`,
    );

  // A second pass, once, when a flow tshark left undissected opens like TLS, MQTT or HTTP/2: decoded as that on its port.
  if (!input.decodeAs) {
    const decode = new Set<string>();
    for (const f of flows.values()) {
      const b = f.firstPayload;
      if (!b || f.transport !== 'tcp' || f.tls || f.protocols.has('mqtt') || f.protocols.has('http2')) continue;
      const port = f.peer!.port;
      if (b[0] === 0x16 && (b.length < 2 || b[1] === 0x03)) decode.add(`tcp.port==${port},tls`);
      else if (b[0] === 0x10 && /MQTT|MQIsdp/.test(b.subarray(2, 12).toString('latin1'))) decode.add(`tcp.port==${port},mqtt`);
      else if (b.subarray(0, 14).toString('latin1') === 'PRI * HTTP/2.0') decode.add(`tcp.port==${port},http2`);
    }
    if (decode.size) return dissect({ ...input, decodeAs: [...decode].slice(0, 32) });
  }

  // Destinations: flows the device opened. Seen from the start (a SYN): as seen. Seen mid-way (or UDP, ICMP): the
  // device's unless its end is a port it serves.
  const dests = new Map<string, TrafficDestination>();
  const maskFrames = new Map<number, Buffer[]>();
  let deviceFlows = 0;
  for (const f of flows.values()) {
    const dev = f.device!;
    const peer = f.peer!;
    const opened =
      f.opener ??
      (f.transport === 'icmp'
        ? 'device'
        : f.transport === 'tcp'
          ? served.tcp.has(dev.port)
            ? 'peer'
            : 'device'
          : served.udp.has(dev.port)
            ? 'peer'
            : 'device');
    if (opened !== 'device' || f.packetsOut === 0) continue;
    deviceFlows += 1;
    const key = `${f.transport}/${peer.addr}/${peer.port}`;
    const proto = protocolOf(f);
    const d: TrafficDestination = dests.get(key) ?? {
      phase: input.phase,
      address: peer.addr,
      port: peer.port,
      transport: f.transport,
      protocol: proto,
      names: [],
      resolvedNames: [],
      claimedNames: [],
      payloadBytes: 0,
      opaque: [],
      tlsUnparsed: false,
      sshKex: false,
      local: isLocal(peer.addr),
      flows: 0,
      packetsOut: 0,
      bytesOut: 0,
      bytesIn: 0,
      firstFrame: f.firstFrame,
      clear: [],
      firmware: [],
    };
    if (d.protocol === f.transport && proto !== f.transport) d.protocol = proto;
    d.flows += 1;
    d.packetsOut += f.packetsOut;
    d.bytesOut += f.bytesOut;
    d.bytesIn += f.bytesIn;
    d.payloadBytes += f.payloadBytes;
    d.firstFrame = Math.min(d.firstFrame, f.firstFrame);
    d.resolvedNames = [...new Set([...d.resolvedNames, ...(names.get(peer.addr) ?? [])])].sort();
    d.claimedNames = [...new Set([...d.claimedNames, ...(f.tls?.sni ?? []), ...f.http.hosts])].filter((n) => n && n !== peer.addr).sort();
    d.names = [...new Set([...d.resolvedNames, ...d.claimedNames])].sort();
    d.opaque = [...new Set([...d.opaque, ...f.opaque])];
    if (f.partial) d.partial ??= f.partial;
    if (f.sshKex) d.sshKex = true;
    // A TLS record header (0x16 0x03 …) tshark did not dissect as a ClientHello: what it offered is unknown.
    if (!f.tls && f.firstPayload && f.firstPayload[0] === 0x16 && (f.firstPayload.length < 2 || f.firstPayload[1] === 0x03 || f.firstPayload[1] === 0xfe))
      d.tlsUnparsed = true;
    if (f.tls) {
      const t = d.tls ?? { sni: [], versions: [], maxOffered: '', suites: [], weakSuites: [], ja3: [], frames: [] };
      t.sni = [...new Set([...t.sni, ...f.tls.sni])];
      t.versions = [...new Set([...t.versions, ...f.tls.versions])].sort((x, y) => VERSION_RANK.indexOf(x) - VERSION_RANK.indexOf(y));
      t.maxOffered = t.versions[t.versions.length - 1] ?? '';
      t.suites = [...new Set([...t.suites, ...f.tls.suites])];
      t.weakSuites = t.suites.flatMap((c) => {
        const why = weakness(c);
        return why ? [{ code: c, name: suiteName(c), why }] : [];
      });
      t.ja3 = [...new Set([...t.ja3, ...f.tls.ja3])];
      t.frames = [...t.frames, ...f.tls.frames].slice(0, 50);
      d.tls = t;
    }
    if (f.http.requests.length || f.http.hosts.size) {
      const h = d.http ?? { hosts: [], requests: [] };
      h.hosts = [...new Set([...h.hosts, ...f.http.hosts])];
      h.requests = [...h.requests, ...f.http.requests].slice(0, 50);
      d.http = h;
    }
    if (f.mqtt.topics.size || f.mqtt.usernames.size) {
      const m = d.mqtt ?? { topics: [], usernames: [] };
      m.topics = [...new Set([...m.topics, ...f.mqtt.topics])].slice(0, 100);
      m.usernames = [...new Set([...m.usernames, ...f.mqtt.usernames])];
      d.mqtt = m;
    }
    const found = [...f.clear, ...searchFlow(f, input.needles, maskFrames)];
    for (const c of found) if (!d.clear.some((x) => x.kind === c.kind && x.name === c.name)) d.clear.push(c);
    d.firmware = [...d.firmware, ...f.firmware].slice(0, 20);
    dests.set(key, d);
  }
  return {
    destinations: [...dests.values()].sort((a, b) => a.firstFrame - b.firstFrame),
    dnsQueries: [...dns.values()].map((q) => ({ name: q.name, answers: [...q.answers], frame: q.frame })),
    controlSeen,
    deviceFlows,
    alerts,
    packets,
    partial,
    maskFrames,
  };
}
