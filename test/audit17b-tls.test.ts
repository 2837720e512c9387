/**
 * A third audit of comms.tls: only one certificate was read. A server with two certificates
 * (ECDSA P-256 for ECDHE-ECDSA clients, RSA-1024 for RSA clients) passes,
 * though every client that negotiates an RSA suite gets a 1024-bit key.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { assess } from './audit-helpers';
import { listenOn } from './helpers/servers';
import { selfSignedCert } from '../probes/util/cert';

function ecdsaCert(): { key: string; cert: string } {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-ec-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${d}/k.pem`,
      '-out',
      `${d}/c.pem`,
      '-days',
      '30',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-sha256',
    ],
    { stdio: 'ignore' },
  );
  return { key: readFileSync(`${d}/k.pem`, 'utf8'), cert: readFileSync(`${d}/c.pem`, 'utf8') };
}

it('a dual-certificate server whose RSA certificate is 1024-bit is not a pass', async () => {
  const ec = ecdsaCert();
  const rsa = selfSignedCert({ commonName: '127.0.0.1', bits: 1024, ip: '127.0.0.1' });
  const server = tls.createServer(
    {
      key: [ec.key, rsa.key],
      cert: [ec.cert, rsa.cert],
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0',
    },
    (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
  );
  server.on('tlsClientError', () => undefined);
  const dev = await listenOn(server);
  try {
    // Control: an RSA-only client gets the 1024-bit key.
    const bits = await new Promise<number>((resolve, reject) => {
      const c = tls.connect(
        { host: '127.0.0.1', port: dev.port, rejectUnauthorized: false, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0', maxVersion: 'TLSv1.2' },
        () => {
          const b = c.getPeerCertificate().bits ?? 0;
          c.destroy();
          resolve(b);
        },
      );
      c.on('error', reject);
    });
    expect(bits).toBe(1024);
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
    expect(check.verdict).not.toBe('pass');
  } finally {
    await dev.close();
  }
}, 90_000);
