/**
 * A declared web service whose "/" needs a login the discovery cannot reach:
 * a redirect loop, and a redirect to the device under another name.
 * Neither is evidence that there is no password login.
 */
import http from 'node:http';
import { listenOn } from './helpers/servers';
import { assess } from './audit-helpers';
import type { DeviceFileInput } from '../harness/device-file/schema';

const file = (port: number): DeviceFileInput => ({
  device: { name: 'cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
});

it('a redirect loop on "/" is not not-applicable', async () => {
  let hops = 0;
  const web = await listenOn(
    http.createServer((req, res) => {
      hops += 1;
      if (hops > 1000) return void res.writeHead(500).end();
      res.writeHead(302, { Location: req.url === '/a' ? '/b' : '/a', 'Set-Cookie': `s=${hops}` }).end();
    }),
  );
  try {
    const { report } = await assess(file(web.port), ['auth.default-credentials']);
    expect(report.checks[0].verdict).not.toBe('not-applicable');
  } finally {
    await web.close();
  }
}, 60_000);

it('a redirect to the same device under another name (localhost) to a Basic login is not not-applicable', async () => {
  const good = 'Basic ' + Buffer.from('admin:admin').toString('base64');
  let port = 0;
  const web = await listenOn(
    http.createServer((req, res) => {
      if (req.url === '/') return void res.writeHead(302, { Location: `http://localhost:${port}/cgi-bin/login` }).end();
      if (req.headers.authorization === good) return void res.writeHead(200).end('ok');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }),
  );
  port = web.port;
  try {
    const { report } = await assess(file(web.port), ['auth.default-credentials']);
    expect(report.checks[0].verdict).not.toBe('not-applicable');
  } finally {
    await web.close();
  }
}, 60_000);
