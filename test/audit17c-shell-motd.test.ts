/**
 * A fourth audit. settledPrompt: "text still coming is not a prompt yet" rests on a fixed 400 ms of quiet. A root shell whose
 * motd pauses longer than that after "Last login:" (a slow device looking up lastlog: 600 ms) is read as a
 * login prompt; askShell returns null ("asks for a login") and the port counts as asked: pass.
 */
import http from 'node:http';
import type net from 'node:net';
import { assess, labWebDevice, verdicts } from './audit-helpers';
import { listenOn, openShellServer } from './helpers/servers';

const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

async function withExtra(extra: net.Server, declaredAs?: string) {
  const cam = await listenOn(
    http.createServer((req, res) => {
      if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }),
  );
  const other = await listenOn(extra);
  try {
    const dev = labWebDevice(cam.port, '/admin', { scan: { tcp: `${cam.port},${other.port}` } });
    if (declaredAs) dev.services = [...(dev.services ?? []), { port: other.port, protocol: declaredAs } as never];
    const { report } = await assess(dev, ['auth.unauthenticated-access']);
    return { verdict: verdicts(report)['auth.unauthenticated-access'], text: report.checks[0].rationale };
  } finally {
    await other.close();
    await cam.close();
  }
}

const motd = { first: '\r\nLast login:', rest: ' Thu Dec  3 10:00:00 2026 from 10.0.0.2\r\n', afterMs: 600 };

it('declared telnet: a root shell whose motd pauses 600 ms after "Last login:" is not a pass', async () => {
  const r = await withExtra(openShellServer('# ', motd), 'telnet');
  expect(r.verdict).not.toBe('pass');
}, 90_000);

it('undeclared port: the same shell is not a pass', async () => {
  const r = await withExtra(openShellServer('# ', motd));
  expect(r.verdict).not.toBe('pass');
}, 90_000);
