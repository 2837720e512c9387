/** An HTTP Basic login on a port the scan found but the device file does not list under services:. */
import http from 'node:http';
import { listenOn } from './helpers/servers';
import { assess, verdicts } from './audit-helpers';

it('an undeclared web port answering 401 Basic and accepting admin:admin is not "not-applicable"', async () => {
  const good = 'Basic ' + Buffer.from('admin:admin').toString('base64');
  const web = await listenOn(
    http.createServer((req, res) => {
      if (req.headers.authorization === good) return void res.writeHead(200).end('<h1>camera</h1>');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="IPCam"' }).end('unauthorized');
    }),
  );
  try {
    const { report } = await assess({ device: { name: 'cam' }, target: { host: '127.0.0.1' }, scan: { tcp: String(web.port) } }, ['auth.default-credentials']);
    expect(verdicts(report)['auth.default-credentials']).not.toBe('not-applicable');
    expect(verdicts(report)['auth.default-credentials']).not.toBe('pass');
  } finally {
    await web.close();
  }
}, 60_000);
