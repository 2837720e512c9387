/**
 * Audits of comms.tls with two certificates on one port. Only one
 * certificate used to be read: a server with ECDSA P-256 and RSA-1024 passed,
 * though every client that negotiates an RSA suite gets a 1024-bit key (third
 * audit); and an ECDSA certificate on a curve Node's client does not offer by
 * default (P-224) hid behind a refused handshake, though the hand-built hellos
 * had ECDHE-ECDSA suites accepted (fourth audit).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { assess } from './audit-helpers';
import { listenOn } from './helpers/servers';
import { selfSignedCert } from '../probes/util/cert';

/** A self-signed ECDSA certificate on `curve`, made by openssl (Debian package). */
function ecCert(curve: string): { key: string; cert: string } {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-ec-'));
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-nodes', '-keyout', `${d}/k.pem`, '-out', `${d}/c.pem`];
  execFileSync('openssl', [...args, '-days', '30', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-sha256'], { stdio: 'ignore' });
  return { key: readFileSync(`${d}/k.pem`, 'utf8'), cert: readFileSync(`${d}/c.pem`, 'utf8') };
}

/**
 * A TLS 1.2 server holding both certificates; `control` is what a client with `client` options is handed (read by
 * `read`); the verdict of comms.tls on it.
 */
async function dualCertificate(
  certs: Array<{ key: string; cert: string }>,
  server: tls.TlsOptions,
  client: tls.ConnectionOptions,
  read: (c: tls.TLSSocket) => string | number | undefined,
) {
  const srv = tls.createServer(
    {
      key: certs.map((c) => c.key),
      cert: certs.map((c) => c.cert),
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0',
      ...server,
    },
    (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
  );
  srv.on('tlsClientError', () => undefined);
  const dev = await listenOn(srv);
  try {
    const control = await new Promise<string | number | undefined>((resolve, reject) => {
      const c = tls.connect({ host: '127.0.0.1', port: dev.port, rejectUnauthorized: false, maxVersion: 'TLSv1.2', ...client }, () => {
        const v = read(c);
        c.destroy();
        resolve(v);
      });
      c.on('error', reject);
    });
    const { report } = await assess(
      {
        device: { name: 'tls cam' },
        target: { host: '127.0.0.1' },
        scan: { tcp: String(dev.port), udp: '9' },
        services: [{ port: dev.port, protocol: 'https' }],
      },
      ['comms.tls'],
    );
    return { control, verdict: report.checks.find((c) => c.id === 'comms.tls')!.verdict };
  } finally {
    await dev.close();
  }
}

it('a dual-certificate server whose RSA certificate is 1024-bit is not a pass', async () => {
  const r = await dualCertificate(
    [ecCert('P-256'), selfSignedCert({ commonName: '127.0.0.1', bits: 1024, ip: '127.0.0.1' })],
    {},
    { ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0' },
    (c) => c.getPeerCertificate().bits,
  );
  // Control: an RSA-only client gets the 1024-bit key.
  expect(r.control).toBe(1024);
  expect(r.verdict).not.toBe('pass');
}, 90_000);

it('RSA-2048 in front, ECDSA P-224 for clients that offer P-224: not a pass', async () => {
  const r = await dualCertificate(
    [selfSignedCert({ commonName: '127.0.0.1', bits: 2048, ip: '127.0.0.1' }), ecCert('P-224')],
    { ecdhCurve: 'P-256:P-224' },
    { ecdhCurve: 'P-224:P-256', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0' },
    (c) => c.getPeerX509Certificate()?.publicKey.asymmetricKeyDetails?.namedCurve,
  );
  // Control: a client that offers P-224 and ECDSA gets the 224-bit key.
  expect(r.control).toBe('secp224r1');
  expect(r.verdict).not.toBe('pass');
}, 90_000);
