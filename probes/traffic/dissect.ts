/**
 * Facts from a capture, dissected by tshark (`-T ek`, one JSON object per
 * packet, only the fields read here): every destination the device itself
 * contacted, what its TLS client offered, HTTP and MQTT requests, DNS names,
 * and the canaries, secrets and credentials that crossed in clear.
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
  'frame.protocols',
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
  'dns.flags.response',
  'dns.qry.name',
  'dns.a',
  'dns.aaaa',
  'http.host',
  'http.request.method',
  'http.request.uri',
  'http.authorization',
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
  'ftp.request.command',
] as const;

/** Per flow, at most this much of what the device sent is kept to search; in all, at most TOTAL_KEPT. */
const FLOW_KEPT = 1024 * 1024;
const TOTAL_KEPT = 32 * 1024 * 1024;
/** A capture of more packets than this is read up to here, and says so. */
const MAX_PACKETS = 2_000_000;

export interface Needles {
  /** name → value, by kind: never written anywhere, only searched for. */
  personalData: Record<string, string>;
  secrets: Record<string, string>;
  credentials: Record<string, string>;
}

export interface DissectInput {
  tshark: string;
  pcap: string;
  device: string[];
  bench: string[];
  /** The bench's own control connection: a SYN from the bench to this device port. */
  controlPort?: number;
  needles: Needles;
  phase: 'watch' | 'mitm';
  signal?: AbortSignal;
  timeoutMs: number;
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
}

type Layers = Partial<Record<string, string[]>>;

const TLS_VERSIONS: Record<string, string> = { '0x0300': 'SSLv3', '0x0301': 'TLSv1.0', '0x0302': 'TLSv1.1', '0x0303': 'TLSv1.2', '0x0304': 'TLSv1.3' };
const VERSION_RANK = ['SSLv2', 'SSLv3', 'TLSv1.0', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

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

/** A URI as evidence: query values that look like secrets are replaced, and it is bounded. */
function safeUri(uri: string): string {
  return uri.replace(new RegExp(SECRET_QUERY.source, 'gi'), (m, k: string) => `${m[0]}${k}=…`).slice(0, 200);
}

interface Flow {
  id: string;
  transport: 'tcp' | 'udp';
  initiator?: { addr: string; port: number };
  responder?: { addr: string; port: number };
  firstFrame: number;
  sawSyn: boolean;
  ends: Array<{ addr: string; port: number }>;
  packetsOut: number;
  bytesOut: number;
  bytesIn: number;
  protocols: Set<string>;
  out: Buffer[];
  /** The frame each kept chunk came in. */
  outFrames: number[];
  kept: number;
  seqs: Set<number>;
  tls?: { sni: Set<string>; versions: Set<string>; suites: Set<number>; ja3: Set<string>; frames: number[] };
  http: { hosts: Set<string>; requests: Array<{ method: string; uri: string; frame: number }> };
  mqtt: { topics: Set<string>; usernames: Set<string> };
  clear: ClearItem[];
  firmware: Array<{ uri: string; frame: number }>;
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
]);

function protocolOf(flow: Flow): string {
  for (const p of ['tls', 'mqtt', 'http', 'dns', 'mdns', 'ntp', 'ssdp', 'dhcp', 'ftp', 'telnet', 'coap', 'quic']) if (flow.protocols.has(p)) return p;
  return [...flow.protocols][0] ?? flow.transport;
}

/** Every needle found in what the device sent on one flow, with the frame it starts in. */
function searchNeedles(chunks: Buffer[], frames: number[], needles: Needles): ClearItem[] {
  const bytes = Buffer.concat(chunks);
  if (bytes.length === 0) return [];
  const text = bytes.toString('latin1');
  const frameAt = (offset: number): number => {
    let end = 0;
    for (let i = 0; i < chunks.length; i++) {
      end += chunks[i].length;
      if (offset < end) return frames[i];
    }
    return frames[frames.length - 1];
  };
  const found: ClearItem[] = [];
  const look = (kind: ClearItem['kind'], values: Record<string, string>): void => {
    for (const [name, value] of Object.entries(values)) {
      if (value.length < 4) continue;
      for (const form of canaryForms(value)) {
        const at = text.indexOf(form);
        if (at < 0) continue;
        const plain = form === value || form === Buffer.from(value, 'utf8').toString('latin1');
        found.push({ kind, name, how: plain ? 'as is' : 'encoded', frame: frameAt(at) });
        break;
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
  // HTTP on any port (a device's cloud on 8081): tshark's own heuristic, off by default.
  const args = ['-r', input.pcap, '-n', '--enable-heuristic', 'http_tcp', '-T', 'ek', ...FIELDS.flatMap((f) => ['-e', f])];
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
    const tcp = one(l, 'tcp.stream') !== undefined;
    const transport: 'tcp' | 'udp' | undefined = tcp ? 'tcp' : one(l, 'udp.stream') !== undefined ? 'udp' : undefined;
    if (!transport) continue;
    const sport = num(l, `${transport}.srcport`) ?? 0;
    const dport = num(l, `${transport}.dstport`) ?? 0;
    const syn = num(l, 'tcp.flags.syn') === 1 && num(l, 'tcp.flags.ack') === 0;
    if (syn && bench.has(src) && device.has(dst) && dport === input.controlPort) controlSeen = true;
    const fromDevice = device.has(src);
    if (!fromDevice && !device.has(dst)) continue;
    const id = `${transport}:${one(l, `${transport}.stream`)}`;
    let flow = flows.get(id);
    if (!flow) {
      flow = {
        id,
        transport,
        firstFrame: frame,
        sawSyn: false,
        ends: [
          { addr: src, port: sport },
          { addr: dst, port: dport },
        ],
        packetsOut: 0,
        bytesOut: 0,
        bytesIn: 0,
        protocols: new Set(),
        out: [],
        outFrames: [],
        kept: 0,
        seqs: new Set(),
        http: { hosts: new Set(), requests: [] },
        mqtt: { topics: new Set(), usernames: new Set() },
        clear: [],
        firmware: [],
      };
      // UDP: whoever spoke first. TCP: the SYN's sender; without one (the capture began mid-connection), the first sender.
      if (transport === 'udp' || syn) {
        flow.initiator = { addr: src, port: sport };
        flow.responder = { addr: dst, port: dport };
      }
      flows.set(id, flow);
    }
    if (syn && !flow.sawSyn) {
      flow.sawSyn = true;
      flow.initiator = { addr: src, port: sport };
      flow.responder = { addr: dst, port: dport };
    }
    for (const p of (one(l, 'frame.protocols') ?? '').split(':')) if (p && !PROTOCOL_SKIP.has(p)) flow.protocols.add(p);
    const len = num(l, 'frame.len') ?? 0;
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
            set.add(qname.toLowerCase());
            names.set(a.toLowerCase(), set);
          }
        }
      }
      continue;
    }
    flow.packetsOut += 1;
    flow.bytesOut += len;
    const alert = all(l, 'tls.alert_message.desc');
    for (const a of alert) alerts.push({ frame, alert: alertName(Number(a)) });
    const payload = one(l, 'tcp.payload') ?? one(l, 'udp.payload');
    if (payload && flow.kept < FLOW_KEPT && kept < TOTAL_KEPT) {
      const seq = num(l, 'tcp.seq');
      // A retransmission carries the same bytes again.
      if (seq === undefined || !flow.seqs.has(seq)) {
        if (seq !== undefined) flow.seqs.add(seq);
        const b = hexBytes(payload).subarray(0, FLOW_KEPT - flow.kept);
        flow.out.push(b);
        flow.outFrames.push(frame);
        flow.kept += b.length;
        kept += b.length;
      }
    }
    // The HTTP body as tshark rebuilt it (de-chunked, gunzipped): a canary split by chunking or compressed is still in clear.
    for (const body of all(l, 'http.file_data')) {
      if (flow.kept >= FLOW_KEPT || kept >= TOTAL_KEPT) break;
      const b = Buffer.from(body, 'utf8').subarray(0, FLOW_KEPT - flow.kept);
      flow.out.push(b);
      flow.outFrames.push(frame);
      flow.kept += b.length;
      kept += b.length;
    }
    if (num(l, 'dns.flags.response') === 0) {
      const qname = one(l, 'dns.qry.name');
      if (qname && !dns.has(qname.toLowerCase())) dns.set(qname.toLowerCase(), { name: qname.toLowerCase(), answers: new Set(), frame });
    }
    const hs = all(l, 'tls.handshake.type');
    if (hs.includes('1')) {
      flow.tls ??= { sni: new Set(), versions: new Set(), suites: new Set(), ja3: new Set(), frames: [] };
      for (const s of all(l, 'tls.handshake.extensions_server_name')) flow.tls.sni.add(s.toLowerCase());
      const supported = all(l, 'tls.handshake.extensions.supported_version').map(tlsVersion).filter(Boolean);
      const legacy = all(l, 'tls.handshake.version').map(tlsVersion).filter(Boolean);
      // The supported_versions extension, when present, is the list offered; else the ClientHello's version is the highest.
      for (const v of supported.length ? supported : legacy.slice(0, 1)) flow.tls.versions.add(v);
      for (const c of all(l, 'tls.handshake.ciphersuite')) flow.tls.suites.add(Number(c));
      for (const j of all(l, 'tls.handshake.ja3')) flow.tls.ja3.add(j);
      flow.tls.frames.push(frame);
    }
    for (const h of all(l, 'http.host')) flow.http.hosts.add(h.toLowerCase());
    const method = one(l, 'http.request.method');
    const uri = one(l, 'http.request.uri');
    if (method && uri) {
      flow.http.requests.push({ method, uri: safeUri(uri), frame });
      if (FIRMWARE_PATH.test(uri.replace(/\?.*/, ''))) flow.firmware.push({ uri: safeUri(uri), frame });
      const q = SECRET_QUERY.exec(uri);
      if (q && q[2]) flow.clear.push({ kind: 'token', name: `URL parameter ${q[1]}`, how: `in the request URI (${method})`, frame });
    }
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

  // Destinations: flows the device opened, to anyone but the bench's own answering side.
  const dests = new Map<string, TrafficDestination>();
  let deviceFlows = 0;
  for (const f of flows.values()) {
    let init = f.initiator;
    let resp = f.responder;
    if (!init || !resp) {
      // Mid-connection: the device opened it when its end is not on a port it serves (the lower port is the service's).
      const [a, b] = f.ends;
      const devEnd = device.has(a.addr) ? a : b;
      const other = devEnd === a ? b : a;
      if (devEnd.port > other.port) {
        init = devEnd;
        resp = other;
      } else continue;
    }
    if (!device.has(init.addr)) continue;
    deviceFlows += 1;
    const key = `${f.transport}/${resp.addr}/${resp.port}`;
    const proto = protocolOf(f);
    const d =
      dests.get(key) ??
      ({
        phase: input.phase,
        address: resp.addr,
        port: resp.port,
        transport: f.transport,
        protocol: proto,
        names: [],
        local: isLocal(resp.addr),
        flows: 0,
        packetsOut: 0,
        bytesOut: 0,
        bytesIn: 0,
        firstFrame: f.firstFrame,
        clear: [],
        firmware: [],
      } satisfies TrafficDestination);
    if (d.protocol === f.transport && proto !== f.transport) d.protocol = proto;
    d.flows += 1;
    d.packetsOut += f.packetsOut;
    d.bytesOut += f.bytesOut;
    d.bytesIn += f.bytesIn;
    d.firstFrame = Math.min(d.firstFrame, f.firstFrame);
    const nameSet = new Set([...d.names, ...(names.get(resp.addr) ?? []), ...(f.tls?.sni ?? []), ...f.http.hosts].map((n) => n.replace(/:\d+$/, '')));
    d.names = [...nameSet].filter((n) => n && n !== resp.addr).sort();
    if (f.tls) {
      const t = d.tls ?? { sni: [], versions: [], maxOffered: '', suites: [], weakSuites: [], ja3: [], frames: [] };
      t.sni = [...new Set([...t.sni, ...f.tls.sni])];
      t.versions = [...new Set([...t.versions, ...f.tls.versions])].sort((x, y) => VERSION_RANK.indexOf(x) - VERSION_RANK.indexOf(y));
      t.maxOffered = t.versions[t.versions.length - 1] ?? '';
      t.suites = [...new Set([...t.suites, ...f.tls.suites])];
      t.weakSuites = t.suites.flatMap((code) => {
        const why = weakness(code);
        return why ? [{ code, name: suiteName(code), why }] : [];
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
    const found = [...f.clear, ...searchNeedles(f.out, f.outFrames, input.needles)];
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
  };
}
