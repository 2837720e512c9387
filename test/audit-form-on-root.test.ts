/** The commonest web login of all: a password form served straight on "/" (no redirect), undeclared. */
import http from 'node:http';
import { listenOn } from './helpers/servers';
import { assess } from './audit-helpers';

it('a login form on "/" accepting admin:admin is not not-applicable', async () => {
  const page = '<html><form method="post" action="/login"><input type="text" name="user"><input type="password" name="pass"></form></html>';
  const web = await listenOn(
    http.createServer((req, res) => {
      if (req.url === '/login' && req.method === 'POST') {
        let b = '';
        req.on('data', (c) => (b += c));
        req.on('end', () => {
          const f = new URLSearchParams(b);
          if (f.get('user') === 'admin' && f.get('pass') === 'admin') return void res.writeHead(302, { Location: '/home', 'Set-Cookie': 'sid=1' }).end();
          res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<p>wrong</p>${page}`);
        });
        return;
      }
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
    }),
  );
  try {
    const { report } = await assess(
      { device: { name: 'cam' }, target: { host: '127.0.0.1' }, scan: { tcp: String(web.port) }, services: [{ port: web.port, protocol: 'http' }] },
      ['auth.default-credentials'],
    );
    expect(report.checks[0].verdict).not.toBe('not-applicable');
  } finally {
    await web.close();
  }
}, 60_000);
