/**
 * Authentication against devices nobody here has seen: one lockout ledger
 * per device, lab-credential controls that catch a silent lockout, lock
 * signals honoured, waits before lab steps, and logins that survive a
 * daemon hanging up or prompting late. In-process peers that behave like
 * the messiest devices (test/helpers/servers.ts).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { createBroker } from 'aedes';
import { selfSignedCert } from '../probes/util/cert';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { miraiList } from '../probes/credentials/dictionary';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn, lockoutServer, telnetDevice } from './helpers/servers';

const LAB: [string, string] = ['admin', 'lab-pass-8c1e'];
const entryOf = (u: string, p: string) => miraiList().find((e) => e.username === u && e.password === p)!.entry;

async function assess(input: DeviceFileInput, checks: string[]) {
  return runWith({
    device: deviceFrom(input, path.join(mkdtempSync(path.join(tmpdir(), 'sb-auth-')), 'device.yaml')),
    profile: profileOf([{ id: 'R', checks }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });
}

const webDevice = (port: number, auth: Partial<DeviceFileInput['auth'] extends Array<infer A> | undefined ? A : never> = {}): DeviceFileInput => ({
  device: { name: 'lockout camera' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  credentials: { admin: { username: LAB[0], password: LAB[1] } },
  auth: [{ port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin', ...auth }],
});
const verdicts = (r: { checks: Array<{ id: string; verdict: string }> }) => Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));
const attemptsOf = (report: Awaited<ReturnType<typeof assess>>['report']) =>
  report.observations.credentials.observations.filter((o) => o.kind === 'login-attempts').map((o) => o.data);

describe('a lockout that answers 401 exactly like a wrong password (nothing declared)', () => {
  it('is caught by the lab-credential control, waited out, and the default further down the list is still found', async () => {
    // Locks after 5 failures whatever logins succeed in between, for 2 s, answering 401 to everything meanwhile.
    const web = await lockoutServer(LAB[0], LAB[1], 5, { lockSeconds: 1, answer: 'silent-401', resetOnSuccess: false, alsoAccepts: [['root', 'anko']] });
    try {
      const { report } = await assess(webDevice(web.port), ['auth.default-credentials']);
      expect(entryOf('root', 'anko')).toBeGreaterThan(20);
      expect(verdicts(report)['auth.default-credentials']).toBe('fail');
      expect(report.checks[0].findings[0].message).toMatch(/accepted username "root" .* Mirai list entry 41/);
      expect(web.stats.locks).toBeGreaterThanOrEqual(1);
      // The ledger learned the limit and says it waited, and why.
      expect(report.authLedger?.groups.find((g) => g.id === 'device')?.learnedAfter).toBeLessThanOrEqual(5);
      expect(report.authLedger?.waits.some((w) => w.ok && /stopped working/.test(w.why))).toBe(true);
    } finally {
      await web.close();
    }
  }, 90_000);

  it('without a default: every entry is refused and trusted, and the lab credential works at the end', async () => {
    // Two wrong passwords in a row lock it: the control after three finds the lock, and starbench learns to stay under it.
    const web = await lockoutServer(LAB[0], LAB[1], 2, { lockSeconds: 1, answer: 'silent-401' });
    try {
      const { report } = await assess(webDevice(web.port), ['auth.default-credentials']);
      const [a] = attemptsOf(report);
      expect(a).toMatchObject({ complete: true, stopReason: 'exhausted', unknownEntries: 0 });
      expect(verdicts(report)['auth.default-credentials']).toBe('pass');
      expect(report.authLedger?.groups[0].learnedAfter).toBe(2);
      await new Promise((r) => setTimeout(r, 1100));
      const res = await fetch(`http://127.0.0.1:${web.port}/admin`, { headers: { Authorization: 'Basic ' + Buffer.from(LAB.join(':')).toString('base64') } });
      expect(res.status).toBe(200);
    } finally {
      await web.close();
    }
  }, 90_000);

  it('with no lab credential, a lockout that answers like a refusal cannot be told from none: brute force is inconclusive, never fail or pass', async () => {
    const web = await lockoutServer(LAB[0], LAB[1], 5, { lockSeconds: 1, answer: 'silent-401' });
    try {
      const d = webDevice(web.port, { credential: undefined });
      const { report } = await assess({ ...d, credentials: {} }, ['auth.brute-force']);
      expect(report.checks[0]).toMatchObject({ verdict: 'inconclusive' });
    } finally {
      await web.close();
    }
  }, 90_000);
});

describe('a shared lockout that counts credential-less requests, with updates behind the same login', () => {
  const genuine = Buffer.from('FW 1.0.1 signed-by-vendor');
  const deviceWith = (port: number, dir: string): DeviceFileInput => {
    writeFileSync(path.join(dir, 'genuine.bin'), genuine);
    return {
      ...webDevice(port, { bruteForce: 'lockout', lockoutAfter: 5, lockoutSeconds: 2 }),
      update: {
        version: { http: { url: `http://127.0.0.1:${port}/admin/version`, jsonPath: 'firmware', credential: 'admin' } },
        install: { http: { url: `http://127.0.0.1:${port}/admin/upgrade`, method: 'POST', credential: 'admin' } },
        images: { genuine: './genuine.bin', signature: { offset: 9, length: 6 } },
        settleSeconds: 0.1,
      },
      limits: { deviceReturnSeconds: 5 },
    };
  };

  it('guessing, the unauthenticated sweep and brute force share one count; update steps wait out the lock and are decided; the lab credential works at the end', async () => {
    const web = await lockoutServer(LAB[0], LAB[1], 5, {
      lockSeconds: 2,
      answer: 'retry-after',
      countsAnonymous: true,
      update: { version: '1.0.0', genuine, genuineVersion: '1.0.1' },
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-auth-'));
    try {
      const input = deviceWith(web.port, dir);
      const { report } = await runWith({
        device: deviceFrom(input, path.join(dir, 'device.yaml')),
        profile: profileOf([{ id: 'R', checks: ['auth.unauthenticated-access', 'auth.default-credentials', 'auth.brute-force', 'update.integrity'] }]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      const v = verdicts(report);
      expect(v['auth.default-credentials']).toBe('pass');
      expect(v['auth.brute-force']).toBe('pass');
      expect(v['update.integrity']).toBe('pass');
      expect(v['auth.unauthenticated-access']).not.toBe('fail');
      // Brute force locked it on purpose; the update waited for the lock to clear instead of reading "refused".
      expect(web.stats.locks).toBeGreaterThanOrEqual(1);
      expect(web.stats.installs).toEqual(['refused', 'refused', 'genuine']);
      expect(report.authLedger?.waits.length).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${web.port}/admin`, { headers: { Authorization: 'Basic ' + Buffer.from(LAB.join(':')).toString('base64') } });
      expect(res.status).toBe(200);
    } finally {
      await web.close();
    }
  }, 120_000);

  it('an install answered with a lock is never read as refused', async () => {
    // Locked for longer than starbench waits: the update cannot get in, so integrity is inconclusive, not pass.
    // It says "retry after 1 s" and stays locked: each wait is bounded (1 s + 5 s), then the step is unknown.
    const web = await lockoutServer(LAB[0], LAB[1], 1, {
      answer: 'retry-after',
      retryAfterS: 1,
      update: { version: '1.0.0', genuine, genuineVersion: '1.0.1' },
    });
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-auth-'));
    try {
      const input = deviceWith(web.port, dir);
      // Lock it before the run.
      await fetch(`http://127.0.0.1:${web.port}/admin`, { headers: { Authorization: 'Basic ' + Buffer.from('x:y').toString('base64') } });
      const { report } = await runWith({
        device: deviceFrom({ ...input, auth: [{ ...input.auth![0], lockoutSeconds: 1 }] }, path.join(dir, 'device.yaml')),
        profile: profileOf([{ id: 'R', checks: ['update.integrity'] }]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      expect(report.checks[0].verdict).toBe('inconclusive');
      expect(web.stats.installs).toEqual([]);
    } finally {
      await web.close();
    }
  }, 120_000);
});

describe('telnet logins that hang up, and prompts that come late', () => {
  const telnetFile = (port: number, lab: boolean, extra: Partial<DeviceFileInput> = {}): DeviceFileInput => ({
    device: { name: 'telnet camera' },
    target: { host: '127.0.0.1' },
    scan: { tcp: String(port) },
    services: [{ port, protocol: 'telnet' }],
    ...(lab
      ? { credentials: { admin: { username: LAB[0], password: LAB[1] } }, auth: [{ port, protocol: 'telnet', scheme: 'password', credential: 'admin' }] }
      : {}),
    ...extra,
  });

  it('a daemon that hangs up after one wrong password: the adapter reconnects and goes on, and finds the default far down the list', async () => {
    const t = await telnetDevice({ accounts: [LAB, ['root', 'anko']], hangUpAfterFailure: true });
    try {
      const { report } = await assess(telnetFile(t.port, true), ['auth.default-credentials']);
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toMatch(/Mirai list entry 41/);
      expect(t.stats.failures).toBeGreaterThan(30);
    } finally {
      await t.close();
    }
  }, 90_000);

  it('hang-ups with no default: refusals only because the lab login through the same daemon got a shell', async () => {
    const t = await telnetDevice({ accounts: [LAB], hangUpAfterFailure: true });
    try {
      const withLab = await assess(telnetFile(t.port, true), ['auth.default-credentials']);
      expect(withLab.report.checks[0].verdict).toBe('pass');
      const noLab = await assess(telnetFile(t.port, false), ['auth.default-credentials']);
      expect(noLab.report.checks[0]).toMatchObject({ verdict: 'inconclusive' });
      expect(attemptsOf(noLab.report)[0]).toMatchObject({ complete: false, detail: expect.stringMatching(/no lab credential/) });
    } finally {
      await t.close();
    }
  }, 120_000);

  it('a login prompt that comes after 7 s on a device declared slow to connect is waited for', async () => {
    const t = await telnetDevice({ accounts: [['root', 'vizxv']], promptDelayMs: 7000 });
    try {
      const { report } = await assess(
        telnetFile(t.port, false, {
          defaultCredentials: [{ username: 'root', password: 'vizxv' }],
          limits: { connectTimeoutMs: 3000, probeTimeoutSeconds: 300 },
        }),
        ['auth.default-credentials'],
      );
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toMatch(/declared default list entry 1/);
    } finally {
      await t.close();
    }
  }, 120_000);
});

describe('a broker that admits only clients with a certificate (declared scheme: client-certificate)', () => {
  async function certBroker(requireCert: boolean) {
    const lab = selfSignedCert({ commonName: 'lab-client', bits: 2048 });
    const server = selfSignedCert({ commonName: 'broker.local', bits: 2048 });
    const broker = createBroker({ authenticate: (_c, username, password, done) => done(null, username === 'admin' && password?.toString() === 'admin') });
    const tlsServer = tls.createServer(
      { key: server.key, cert: server.cert, requestCert: true, rejectUnauthorized: requireCert, ca: [lab.cert] },
      broker.handle,
    );
    const running = await listenOn(tlsServer as unknown as net.Server);
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-cert-'));
    writeFileSync(path.join(dir, 'lab.pem'), lab.cert);
    writeFileSync(path.join(dir, 'lab.key'), lab.key);
    const input: DeviceFileInput = {
      device: { name: 'cert broker' },
      target: { host: '127.0.0.1' },
      scan: { tcp: String(running.port) },
      services: [{ port: running.port, protocol: 'mqtts' }],
      credentials: { broker: { certificate: './lab.pem', key: './lab.key' } },
      auth: [{ port: running.port, protocol: 'mqtts', scheme: 'client-certificate', credential: 'broker' }],
    };
    return {
      input,
      dir,
      close: async () => {
        await running.close();
        await new Promise<void>((r) => broker.close(() => r()));
      },
    };
  }
  const run = (b: Awaited<ReturnType<typeof certBroker>>, checks: string[]) =>
    runWith({
      device: deviceFrom(b.input, path.join(b.dir, 'device.yaml')),
      profile: profileOf([{ id: 'R', checks }]),
      probes: [...PROBES.values()],
      checks: [...CHECKS.values()],
    });

  it('proven by the alert without a certificate and the handshake with the lab one: no password login offered, nothing guessed, nothing open', async () => {
    const b = await certBroker(true);
    try {
      const { report } = await run(b, ['auth.default-credentials', 'auth.unauthenticated-access', 'auth.brute-force']);
      const v = verdicts(report);
      expect(v['auth.default-credentials']).toBe('pass');
      expect(v['auth.unauthenticated-access']).toBe('pass');
      expect(v['auth.brute-force']).toBe('not-applicable');
      expect(attemptsOf(report)[0]).toMatchObject({ stopReason: 'no-password-login', tried: 0, detail: expect.stringMatching(/admitted with the lab's/) });
    } finally {
      await b.close();
    }
  }, 60_000);

  it('declared certificate-only but admitting anyone: the declaration is not believed, and admin:admin is found', async () => {
    const b = await certBroker(false);
    try {
      const { report } = await run(b, ['auth.default-credentials']);
      expect(report.checks[0].verdict).toBe('fail');
    } finally {
      await b.close();
    }
  }, 60_000);
});

describe('a form login the device file does not declare, behind a redirect', () => {
  /** `/` needs a session: it redirects to /login.html, whose form posts to /login; a good login sets a cookie and opens `/`. */
  async function formDevice(accounts: Array<[string, string]>) {
    const sessions = new Set<string>();
    const stats = { posts: 0 };
    const page =
      '<html><form method="post" action="/login"><input type="text" name="user"><input type="password" name="pass"><input type="submit"></form></html>';
    const server = http.createServer((req, res) => {
      const sid = /sid=([a-f0-9]+)/.exec(req.headers.cookie ?? '')?.[1];
      if (req.url === '/login.html') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(page);
      if (req.url === '/login' && req.method === 'POST') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          stats.posts += 1;
          const f = new URLSearchParams(body);
          if (accounts.some(([u, p]) => u === f.get('user') && p === f.get('pass'))) {
            const id = Math.random().toString(16).slice(2);
            sessions.add(id);
            return void res.writeHead(302, { Location: '/', 'Set-Cookie': `sid=${id}; Path=/; HttpOnly` }).end();
          }
          res.writeHead(200, { 'Content-Type': 'text/html' }).end(`<p>wrong password</p>${page}`);
        });
        return;
      }
      if (sid && sessions.has(sid)) return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>camera dashboard</h1>');
      res.writeHead(302, { Location: '/login.html' }).end();
    });
    return { ...(await listenOn(server)), stats };
  }
  const file = (port: number): DeviceFileInput => ({
    device: { name: 'form camera' },
    target: { host: '127.0.0.1' },
    scan: { tcp: String(port) },
    services: [{ port, protocol: 'http' }],
  });

  it('is found by following the redirect, and admin:admin on it fails the device', async () => {
    const web = await formDevice([['admin', 'admin']]);
    try {
      const { report } = await assess(file(web.port), ['auth.default-credentials']);
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toMatch(/accepted username "admin"/);
      expect(attemptsOf(report)[0]).toMatchObject({ adapter: 'http-form', path: '/login', source: 'discovered form login at /login.html (redirected from /)' });
    } finally {
      await web.close();
    }
  }, 60_000);

  it('every entry refused, but no lab credential shows a good login would open the page: inconclusive, never pass', async () => {
    const web = await formDevice([['owner', 'a-long-unique-password-3f9']]);
    try {
      const { report } = await assess(file(web.port), ['auth.default-credentials']);
      expect(report.checks[0].verdict).toBe('inconclusive');
      expect(web.stats.posts).toBeGreaterThan(50);
    } finally {
      await web.close();
    }
  }, 60_000);
});
