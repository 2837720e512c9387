/** init's discovery against loopback servers an audit used: IPv6 redirects to a login, a TLS server that drops untrusted certificates. */
import { mkdtempSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { selfSignedCert } from '../fixtures/util/cert';
import { starbench } from './helpers/cli';

const listen = (server: net.Server, host: string): Promise<number> =>
  new Promise((r) => server.listen(0, host, () => r((server.address() as net.AddressInfo).port)));

describe('init discovery', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-init-disc-'));

  it('follows a redirect to a login form on an IPv6 host, and lists that form once', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/') res.writeHead(302, { Location: '/login' }).end();
      else if (req.url === '/login')
        res
          .writeHead(200, { 'Content-Type': 'text/html' })
          .end('<form action="/auth" method="post"><input name="u"><input type="password" name="p"></form><a href="/auth">x</a>');
      else res.writeHead(200, { 'Content-Type': 'text/html' }).end('<form action="/auth"><input name="u"><input type="password" name="p"></form>');
    });
    const port = await listen(server, '::1');
    try {
      const out = path.join(dir, 'v6.yaml');
      const r = await starbench(['init', '::1', '--ports', String(port), '--udp-ports', String(port), '--out', out], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      const draft = readFileSync(out, 'utf8');
      expect(draft.match(/scheme: form/g)).toHaveLength(1);
      expect(draft).toMatch(/path: \/auth/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('a TLS server that closes connections with an untrusted certificate is not "accepted with any", and its protocol is not guessed', async () => {
    const ca = selfSignedCert({ commonName: 'lab-ca' });
    const cert = selfSignedCert({ commonName: 'device' });
    const server = tls.createServer({ cert: cert.cert, key: cert.key, requestCert: true, rejectUnauthorized: true, ca: ca.cert, minVersion: 'TLSv1.3' }, (s) =>
      s.end(),
    );
    server.on('tlsClientError', () => undefined);
    const port = await listen(server, '127.0.0.1');
    try {
      const out = path.join(dir, 'cc.yaml');
      const r = await starbench(['init', '127.0.0.1', '--ports', String(port), '--udp-ports', String(port), '--out', out], { timeoutMs: 60_000 });
      expect(r.code).toBe(0);
      const draft = readFileSync(out, 'utf8');
      expect(draft).not.toMatch(/accepted with a self-signed one/);
      expect(draft).toMatch(/TLS client certificate: .*the protocol inside could not be seen/);
      expect(draft).toMatch(new RegExp(`port: ${port}\\n\\s+protocol: tls`));
      expect(draft).toMatch(/scheme: client-certificate/);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
