/**
 * In TLS a close is unknown, not a refusal: a server that hangs up on a
 * legacy ClientHello without sending an alert may have crashed, hit a
 * connection limit, or refused — the version is not shown refused.
 */
import net from 'node:net';
import tls from 'node:tls';
import { assess } from './audit-helpers';
import { listenOn } from './helpers/servers';
import { selfSignedCert } from '../probes/util/cert';

const CERT = selfSignedCert({ commonName: '127.0.0.1', bits: 2048, ip: '127.0.0.1' });

/** TLS 1.2+ behind a front that either closes (no alert) or lets OpenSSL answer the legacy hellos. */
async function tlsDevice(onLegacy: 'close' | 'alert') {
  const inner = tls.createServer({ ...CERT, minVersion: 'TLSv1.2', ciphers: 'ECDHE+AESGCM:ECDHE+CHACHA20' }, (s) =>
    s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
  );
  inner.on('tlsClientError', () => undefined);
  const backend = await listenOn(inner);
  const front = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.once('data', (hello: Buffer) => {
      // The ClientHello's client_version (record header 5 bytes, handshake header 4): below 0x0303 is TLS 1.1 or older.
      const clientVersion = hello.length > 10 ? hello.readUInt16BE(9) : 0;
      if (clientVersion < 0x0303 && onLegacy === 'close') return void sock.destroy();
      const up = net.connect(backend.port, '127.0.0.1');
      up.on('error', () => sock.destroy());
      up.write(hello);
      sock.pipe(up).pipe(sock);
    });
  });
  const f = await listenOn(front);
  return { port: f.port, close: async () => (await f.close(), await backend.close()) };
}

async function tlsVerdict(onLegacy: 'close' | 'alert') {
  const dev = await tlsDevice(onLegacy);
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
    return { check: report.checks.find((c) => c.id === 'comms.tls')!, tls: report.observations.tls.observations.find((o) => o.kind === 'tls-service') };
  } finally {
    await dev.close();
  }
}

describe('a TLS server that hangs up without an alert', () => {
  it('on legacy hellos: those versions are unknown, and comms.tls is inconclusive, never pass', async () => {
    const { check, tls: fact } = await tlsVerdict('close');
    expect(check.verdict).toBe('inconclusive');
    expect(check.rationale).toMatch(/closed without a TLS alert/);
    expect((fact?.data as { versions: Record<string, { accepted: boolean | null }> }).versions['TLSv1'].accepted).toBeNull();
  }, 60_000);

  it('the same server answering with alerts (OpenSSL) is decided: legacy versions refused, a pass', async () => {
    const { check, tls: fact } = await tlsVerdict('alert');
    expect((fact?.data as { versions: Record<string, { accepted: boolean | null }> }).versions['TLSv1'].accepted).toBe(false);
    expect(check.verdict).toBe('pass');
  }, 60_000);
});
