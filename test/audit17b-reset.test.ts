/**
 * A third audit of privacy.data-deletion: the owner's data still on the
 * device after the reset gave pass — past the 256 KiB kept of a read-back, in
 * a table whose only anchor was markup (<td>), or in the same place but
 * base64- or HTML-entity-encoded.
 */
import http from 'node:http';
import { assess, labWebDevice } from './audit-helpers';
import { listenOn } from './helpers/servers';

const CANARY = 'hanako.zz.canary@example.jp';
const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

async function device(contentType: string, before: string, after: string) {
  let wasReset = false;
  const server = http.createServer((req, res) => {
    if (req.headers.authorization !== LAB) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    if (req.url === '/reset' && req.method === 'POST') {
      wasReset = true;
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"reset":true}');
    }
    if (req.url === '/admin') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>admin</h1>');
    if (req.url !== '/config') return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': contentType }).end(wasReset ? after : before);
  });
  return listenOn(server);
}

async function deletion(contentType: string, before: string, after: string) {
  const web = await device(contentType, before, after);
  try {
    const { report } = await assess(
      labWebDevice(web.port, '/admin', {
        reset: { http: { url: `http://127.0.0.1:${web.port}/reset`, method: 'POST', credential: 'admin' } },
        update: { settleSeconds: 0 },
        personalData: {
          declared: ['email'],
          canaries: { email: CANARY },
          readBack: [{ http: { url: `http://127.0.0.1:${web.port}/config`, credential: 'admin' } }],
        },
      }),
      ['privacy.data-deletion'],
    );
    return report.checks.find((c) => c.id === 'privacy.data-deletion')!;
  } finally {
    await web.close();
  }
}

describe('audit17b: reset — data still there, verdict was pass', () => {
  it('an account page past 256 KiB after the reset: the canary beyond the cut is never searched', async () => {
    // A users page: the "add a user" form on top, the event log, then the enrolled users. After the reset the log has grown past 256 KiB.
    const page = (log: string) =>
      `<html><head><title>Users</title></head><body><form><input name="email" value=""><button>Add</button></form>\n<pre>${log}</pre>\n<form><input name="email" value="${CANARY}"></form></body></html>`;
    const c = await deletion('text/html', page('boot\n'), page('event: reboot ok\n'.repeat(20_000)));
    expect(c.verdict).not.toBe('pass');
  }, 60_000);

  it('a table laid out one cell per line: after the reset a welcome page with the same title and any <td> is taken for the emptied page', async () => {
    const c = await deletion(
      'text/html',
      `<html><head><title>IP Camera</title></head><body><table>\n<tr>\n<td>Owner e-mail</td>\n<td>${CANARY}</td>\n</tr>\n</table></body></html>`,
      `<html><head><title>IP Camera</title></head><body><table>\n<tr>\n<td>Welcome! This camera is not set up yet. <a href="/setup">Start setup</a></td>\n</tr>\n</table></body></html>`,
    );
    expect(c.verdict).not.toBe('pass');
  }, 60_000);

  it('the same JSON key still holding the e-mail, base64-encoded', async () => {
    const c = await deletion(
      'application/json',
      JSON.stringify({ owner: { email: CANARY }, tz: 'JST' }),
      JSON.stringify({ owner: { email: Buffer.from(CANARY).toString('base64') }, tz: 'JST' }),
    );
    expect(c.verdict).not.toBe('pass');
  }, 60_000);

  it('the same form field still holding the e-mail, HTML-entity encoded', async () => {
    const form = (v: string) => `<html><head><title>Account</title></head><body><form><input name="email" value="${v}"></form></body></html>`;
    const c = await deletion('text/html', form(CANARY), form(CANARY.replace('@', '&#64;')));
    expect(c.verdict).not.toBe('pass');
  }, 60_000);
});
