/**
 * A fourth audit. comms.tls: an ECDSA certificate on a curve Node's client does not offer (P-224) is never read:
 * the ECDSA handshake is refused with handshake_failure, which the probe takes for "no ECDSA
 * certificate", although its own hand-built hellos (which offer secp224r1) had ECDHE-ECDSA suites accepted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { assess } from './audit-helpers';
import { listenOn } from './helpers/servers';
import { selfSignedCert } from '../probes/util/cert';

function ecCert(curve: string): { key: string; cert: string } {
  const d = mkdtempSync(path.join(tmpdir(), 'sb-ec-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      `ec_paramgen_curve:${curve}`,
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

it('RSA-2048 in front, ECDSA P-224 for clients that offer P-224: not a pass', async () => {
  const ec = ecCert('P-224');
  const rsa = selfSignedCert({ commonName: '127.0.0.1', bits: 2048, ip: '127.0.0.1' });
  const server = tls.createServer(
    {
      key: [rsa.key, ec.key],
      cert: [rsa.cert, ec.cert],
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
      ecdhCurve: 'P-256:P-224',
      ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0',
    },
    (s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
  );
  server.on('tlsClientError', () => undefined);
  const dev = await listenOn(server);
  try {
    // Control: a client that offers P-224 and ECDSA gets the 224-bit key.
    const bits = await new Promise<number>((resolve, reject) => {
      const c = tls.connect(
        {
          host: '127.0.0.1',
          port: dev.port,
          rejectUnauthorized: false,
          ecdhCurve: 'P-224:P-256',
          ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:@SECLEVEL=0',
          maxVersion: 'TLSv1.2',
        },
        () => {
          const b = c.getPeerX509Certificate()!.publicKey.asymmetricKeyDetails?.namedCurve;
          c.destroy();
          resolve(b === 'secp224r1' ? 224 : 0);
        },
      );
      c.on('error', reject);
    });
    expect(bits).toBe(224);
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
