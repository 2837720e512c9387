/**
 * comms.tls: the suite enumeration of a version is cut off after about half
 * of the offered suites (probes/tls/index.ts enumerate(): the loop bound is
 * re-evaluated against the shrinking `offered` list), without recording that
 * it stopped. A TLS 1.2 server that accepts many strong suites and, least
 * preferred, 3DES is then reported "strong suites only": a pass.
 */
import net from 'node:net';
import tls from 'node:tls';
import { assess } from './audit-helpers';
import { listenOn } from './helpers/servers';
import { selfSignedCert } from '../probes/util/cert';
import { suitesFor, weakness } from '../probes/tls/suites';

const CERT = selfSignedCert({ commonName: '127.0.0.1', bits: 2048, ip: '127.0.0.1' });
const DES_CBC3_SHA = 0x000a;

/** The server's preference: every strong TLS 1.2 suite of the table, then 3DES last (server order, as mbedTLS does). */
const PREFERENCE = [...suitesFor('TLSv1.2').filter((c) => weakness(c) === null), DES_CBC3_SHA];

function parseHello(b: Buffer): { version: number; suites: number[]; exts: number[] } | null {
  if (b.length < 5 || b[0] !== 22 || b.length < 5 + b.readUInt16BE(3)) return null;
  let o = 9;
  const version = b.readUInt16BE(o);
  o += 2 + 32;
  o += 1 + b[o];
  const n = b.readUInt16BE(o);
  const suites: number[] = [];
  for (let i = 0; i < n; i += 2) suites.push(b.readUInt16BE(o + 2 + i));
  o += 2 + n;
  o += 1 + b[o];
  const exts: number[] = [];
  if (o + 2 <= b.length) {
    const end = o + 2 + b.readUInt16BE(o);
    o += 2;
    while (o + 4 <= end) {
      exts.push(b.readUInt16BE(o));
      o += 4 + b.readUInt16BE(o + 2);
    }
  }
  return { version, suites, exts };
}

function serverHello(suite: number): Buffer {
  const body = Buffer.concat([Buffer.from([0x03, 0x03]), Buffer.alloc(32, 7), Buffer.from([0]), Buffer.from([suite >> 8, suite & 0xff]), Buffer.from([0])]);
  const hs = Buffer.concat([Buffer.from([2, 0, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([22, 3, 3, hs.length >> 8, hs.length & 0xff]), hs]);
}
const ALERT_HANDSHAKE_FAILURE = Buffer.from([21, 3, 3, 0, 2, 2, 40]);

async function tls12With3desLast(legacy: 'alert' | 'odd-suite' | 'close-notify' = 'alert') {
  const inner = tls.createServer({ ...CERT, minVersion: 'TLSv1.2' }, (s) => s.end());
  inner.on('tlsClientError', () => undefined);
  const backend = await listenOn(inner);
  const front = net.createServer((sock) => {
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      const h = parseHello(buf);
      if (!h) return;
      sock.removeAllListeners('data');
      // Node's own client (the certificate read) sends extended_master_secret: let a real TLS stack answer it.
      if (h.exts.includes(23)) {
        const up = net.connect(backend.port, '127.0.0.1');
        up.on('error', () => sock.destroy());
        up.write(buf);
        sock.pipe(up).pipe(sock);
        return;
      }
      // TLS 1.2 only: anything else gets a proper fatal alert.
      if (h.version < 0x0303 && legacy === 'odd-suite') {
        // A ServerHello FOR the legacy version asked (the version is negotiated), naming a suite the client did not offer.
        const sh = serverHello(0x1301);
        sh.writeUInt16BE(h.version, 9);
        return void sock.write(sh);
      }
      if (h.version < 0x0303 && legacy === 'close-notify') return void sock.end(Buffer.from([21, 3, 1, 0, 2, 1, 0]));
      if (h.version !== 0x0303 || h.exts.includes(43)) return void sock.end(ALERT_HANDSHAKE_FAILURE);
      const pick = PREFERENCE.find((p) => h.suites.includes(p));
      if (pick === undefined) return void sock.end(ALERT_HANDSHAKE_FAILURE);
      sock.write(serverHello(pick));
    });
  });
  const f = await listenOn(front);
  return { port: f.port, close: async () => (await f.close(), await backend.close()) };
}

it('a TLS 1.2 server that accepts 3DES as its least preferred suite is not "strong suites only"', async () => {
  expect(PREFERENCE.length).toBeGreaterThan(92);
  const dev = await tls12With3desLast();
  try {
    const { report } = await assess(
      {
        device: { name: 'tls cam' },
        target: { host: '127.0.0.1' },
        scan: { tcp: String(dev.port), udp: '9' },
        services: [{ port: dev.port, protocol: 'https' }],
      },
      ['comms.tls'],
    );
    const check = report.checks.find((c) => c.id === 'comms.tls')!;
    // DES-CBC3-SHA is accepted: fail (or at the very least, not pass).
    expect(check.verdict).toBe('fail');
  } finally {
    await dev.close();
  }
}, 120_000);

describe('legacy hellos answered with something that is not a refusal', () => {
  it.each([
    ['a ServerHello for TLS 1.0/1.1 naming a suite not offered (the version WAS negotiated)', 'odd-suite'],
    ['a warning-level close_notify alert (a close, not a handshake failure)', 'close-notify'],
  ] as const)(
    '%s: the legacy version is not shown refused, so not pass',
    async (_n, legacy) => {
      const dev = await tls12With3desLast(legacy);
      try {
        const { report } = await assess(
          {
            device: { name: 'tls cam' },
            target: { host: '127.0.0.1' },
            scan: { tcp: String(dev.port), udp: '9' },
            services: [{ port: dev.port, protocol: 'https' }],
          },
          ['comms.tls'],
        );
        const fact = report.observations.tls.observations.find((o) => o.kind === 'tls-service')?.data as {
          versions: Record<string, { accepted: boolean | null; suites: string[]; error?: string }>;
        };
        expect(fact.versions['TLSv1'].accepted).not.toBe(false);
      } finally {
        await dev.close();
      }
    },
    120_000,
  );
});
