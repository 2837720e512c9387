/**
 * A third audit of auth.unauthenticated-access: something open without
 * credentials, or never asked, gave pass — MQTT refusals that are not about
 * credentials (protocol version, server unavailable) read as "refuses
 * anonymous", FTP that never answered the login, a "Last login:" motd split
 * across two writes read as a login prompt, and a port that is a login on
 * IPv4 and a root shell on IPv6.
 */
import http from 'node:http';
import net from 'node:net';
import { assess, labWebDevice, verdicts } from './audit-helpers';
import { listenOn, openShellServer, type Running } from './helpers/servers';

const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

async function camera(host = '127.0.0.1', port = 0): Promise<Running> {
  const server = http.createServer((req, res) => {
    if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
  });
  if (port === 0) return listenOn(server, host);
  await new Promise<void>((r) => server.listen(port, host, r));
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function withExtra(extra: net.Server, declaredAs?: string) {
  const cam = await camera();
  const other = await listenOn(extra);
  try {
    const dev = labWebDevice(cam.port, '/admin', { scan: { tcp: `${cam.port},${other.port}` } });
    if (declaredAs) dev.services = [...(dev.services ?? []), { port: other.port, protocol: declaredAs } as never];
    const { report } = await assess(dev, ['auth.unauthenticated-access']);
    return { verdict: verdicts(report)['auth.unauthenticated-access'], text: JSON.stringify(report.checks[0]) };
  } finally {
    await other.close();
    await cam.close();
  }
}

/** An MQTT 5-only broker that lets anyone in: a 3.1.1 CONNECT gets CONNACK 0x01 (unacceptable protocol version), a 5 CONNECT is accepted. `rc` for 3.1.1 clients. */
function mqtt5OnlyBroker(rc = 1): net.Server {
  return net.createServer((s) => {
    s.on('error', () => undefined);
    s.once('data', (d: Buffer) => {
      // Fixed header, remaining length (1 byte here), "\0\4MQTT", level.
      const level = d[2 + 6];
      if (level === 5) s.write(Buffer.from([0x20, 0x03, 0x00, 0x00, 0x00]));
      else s.write(Buffer.from([0x20, 0x02, 0x00, rc]), () => s.end());
    });
  });
}

describe('audit17b: unauthenticated access (a third audit)', () => {
  it('an MQTT-5-only broker open to anyone: the 3.1.1 CONNECT is refused "unacceptable protocol version", taken as "refuses anonymous"', async () => {
    const r = await withExtra(mqtt5OnlyBroker(1));
    expect(r.verdict).not.toBe('pass');
  }, 90_000);

  it('a broker answering "server unavailable" (busy) was never asked, yet counts as refusing anonymous clients', async () => {
    const r = await withExtra(mqtt5OnlyBroker(3));
    expect(r.verdict).not.toBe('pass');
  }, 90_000);

  it('an FTP server that answers USER with 421 (too many connections) was never asked: not "nothing open"', async () => {
    const r = await withExtra(
      net.createServer((s) => {
        s.on('error', () => undefined);
        s.write('220 cam FTP ready\r\n');
        s.on('data', () => s.write('421 Too many connections from your address, try later\r\n', () => s.end()));
      }),
    );
    expect(r.verdict).not.toBe('pass');
  }, 90_000);

  it('an FTP server that wants AUTH TLS first (534) never had anonymous asked: not "nothing open"', async () => {
    const r = await withExtra(
      net.createServer((s) => {
        s.on('error', () => undefined);
        s.write('220 cam FTP ready\r\n');
        s.on('data', () => s.write('534 Policy requires SSL\r\n'));
      }),
    );
    expect(r.verdict).not.toBe('pass');
  }, 90_000);

  it('a root shell whose motd "Last login:" arrives before the rest of its line is taken for a login prompt', async () => {
    const r = await withExtra(openShellServer('# ', { first: '\r\nLast login:', rest: ' Thu Dec  3 10:00:00 2026 from 10.0.0.2\r\n', afterMs: 150 }));
    expect(r.verdict).not.toBe('pass');
  }, 90_000);

  it('a declared port: the camera on IPv4 needs a login, the same port on IPv6 is a root shell', async () => {
    const cam = await camera('127.0.0.1');
    const shell = await new Promise<Running>((resolve, reject) => {
      const srv = openShellServer();
      srv.once('error', reject);
      srv.listen(cam.port, '::1', () => resolve({ port: cam.port, close: () => new Promise<void>((r) => srv.close(() => r())) }));
    });
    try {
      const { report } = await assess(
        labWebDevice(cam.port, '/admin', { target: { host: '127.0.0.1', host6: '::1' }, scan: { tcp: String(cam.port), scanner: 'builtin', udp: '9' } }),
        ['auth.unauthenticated-access'],
      );
      const port = report.observations['tcp-ports'].observations.find((o) => o.port === cam.port);
      expect(port?.data).toMatchObject({ families: ['ipv4', 'ipv6'] });
      expect(verdicts(report)['auth.unauthenticated-access']).not.toBe('pass');
    } finally {
      await shell.close();
      await cam.close();
    }
  }, 90_000);
});
