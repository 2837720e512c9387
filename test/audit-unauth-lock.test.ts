/**
 * A device whose lockout counts credential-less requests to protected pages
 * and, while locked, answers 401 to everything — including a page that is
 * open to anyone when the device is not locked.
 */
import http from 'node:http';
import { listenOn } from './helpers/servers';
import { assess, labWebDevice } from './audit-helpers';

async function lockingWeb(lockAfter: number, lockMs: number) {
  const stats = { locks: 0, openServed: 0, openHiddenByLock: 0 };
  let failures = 0;
  let lockedAt = 0;
  const good = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');
  const server = http.createServer((req, res) => {
    const locked = lockedAt !== 0 && Date.now() - lockedAt < lockMs;
    if (!locked && lockedAt !== 0) {
      lockedAt = 0;
      failures = 0;
    }
    const deny = () => res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end('401 Unauthorized');
    if (req.url === '/admin') {
      // Forgotten: the admin form is open to anyone (unless the device is locked).
      if (locked) {
        stats.openHiddenByLock += 1;
        return void deny();
      }
      stats.openServed += 1;
      return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<form><input name="ssid"><input name="password" type="password"></form>');
    }
    if (locked) return void deny();
    if (req.headers.authorization === good) {
      failures = 0;
      return void res.writeHead(200).end('welcome');
    }
    failures += 1;
    if (failures >= lockAfter) {
      lockedAt = Date.now();
      stats.locks += 1;
    }
    deny();
  });
  return { ...(await listenOn(server)), stats };
}

it('an open admin page hidden by a silent lock that credential-less requests set off is not a pass', async () => {
  const web = await lockingWeb(1, 1000);
  try {
    const { report } = await assess(labWebDevice(web.port, '/'), ['auth.unauthenticated-access']);
    expect(web.stats.openHiddenByLock).toBeGreaterThan(0);
    expect(report.checks[0].verdict).not.toBe('pass');
  } finally {
    await web.close();
  }
}, 120_000);
