/**
 * An install answered by a lock that says 403 Forbidden (no Retry-After, no
 * lock words — common on cameras that ban an address for a while). The
 * version is read from a public page, so it reads fine throughout. The lock
 * is already on when the sequence begins and lifts before the genuine image.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listenOn } from './helpers/servers';
import { assess, labWebDevice } from './audit-helpers';

const genuine = Buffer.from('FW 1.0.1 signed-by-vendor');

async function bannedCamera(lockMs: number) {
  const stats = { installs: [] as string[] };
  let version = '1.0.0';
  let lockedAt = 0;
  const good = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');
  const server = http.createServer((req, res) => {
    if (req.url === '/version') {
      // The device was locked before this run (someone else's wrong passwords); it is still locked when the sequence starts.
      if (lockedAt === 0) lockedAt = Date.now();
      return void res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ firmware: version }));
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (!req.url?.startsWith('/admin')) return void res.writeHead(200).end('home');
      if (lockedAt !== 0 && Date.now() - lockedAt < lockMs) {
        if (req.url === '/admin/upgrade') stats.installs.push('banned (403)');
        return void res.writeHead(403).end('Forbidden');
      }
      if (req.headers.authorization !== good) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end('no');
      if (req.url === '/admin/upgrade') {
        const ok = Buffer.concat(chunks).equals(genuine);
        stats.installs.push(ok ? 'genuine' : 'refused');
        if (ok) version = '1.0.1';
        return void res.writeHead(ok ? 200 : 400).end(ok ? 'installed' : 'signature check failed');
      }
      res.writeHead(200).end('welcome');
    });
  });
  return { ...(await listenOn(server)), stats };
}

it('a tampered image answered "403" by a lock the lab credential could not pass is not "refused" (never pass)', async () => {
  const web = await bannedCamera(4000);
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-audit-'));
  writeFileSync(path.join(dir, 'genuine.bin'), genuine);
  try {
    const { report } = await assess(
      labWebDevice(web.port, '/admin', {
        update: {
          version: { http: { url: `http://127.0.0.1:${web.port}/version`, jsonPath: 'firmware' } },
          install: { http: { url: `http://127.0.0.1:${web.port}/admin/upgrade`, method: 'POST', credential: 'admin' } },
          images: { genuine: './genuine.bin', signature: { offset: 9, length: 6 } },
          settleSeconds: 2.5,
        },
        limits: { deviceReturnSeconds: 5 },
      }),
      ['update.integrity'],
      dir,
    );
    // The lab credential is tried right before each upload: refused, so the lock is waited out first, and the
    // device judges every image itself — no image is turned away at the door and read as "refused".
    expect(web.stats.installs).not.toContain('banned (403)');
    expect(report.authLedger?.waits.some((w) => w.purpose === 'update.install' || w.purpose === 'update.version')).toBe(true);
    if (report.checks[0].verdict === 'pass') expect(web.stats.installs.slice(0, 1)).toEqual(['refused']);
  } finally {
    await web.close();
  }
}, 120_000);
