/**
 * auth.credential-change and resilience.restart-persistence against devices
 * on loopback that change passwords the way real ones do: properly; on the
 * web only while SSH keeps the old password; not at all while answering 200;
 * with a lock in place of a refusal; in RAM only, lost at the restart; with a
 * restart that never happens; refusing the change back (secrets.json kept,
 * the report says so) — and a run interrupted after the change, put right
 * by the next attempt in the same run folder.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { tmpdir } from 'node:os';
import { CHECKS as ALL } from '../profiles/checks';
import { PROBES } from '../probes';
import { verdicts } from './audit-helpers';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { sshServer } from './helpers/servers';

const LAB = 'lab-pass-8c1e';
const CHECKS = ['auth.credential-change', 'resilience.restart-persistence'];

interface Behaviour {
  /** How the change is applied: kept, kept in RAM only (lost at a restart), or not at all (answers 200 anyway). */
  applies?: 'kept' | 'ram' | 'never';
  /** The restart: really goes away for a while, or answers 200 and does nothing. */
  restart?: 'real' | 'fake';
  /** A wrong password after the change gets 429 (a lock), not 401. */
  lockOnWrong?: boolean;
  /** Refuses every change after the first. */
  refuseBack?: boolean;
  /** Applies a change this long after answering it. */
  lateMs?: number;
  /** Takes any password on the admin page (a login that refuses nothing). */
  anyPassword?: boolean;
  /** After a good login, refuses every login (the right one too) for this long: one admin session at a time. */
  busyMs?: number;
  /** Answers each login on the admin page this much later, counting logins in flight (shared between cameras) in `load`. */
  slowLogin?: { ms: number; load: { live: number; peak: number } };
}

/** A camera with a Basic-auth admin page, a password change (POST /passwd old=&new=), a version page and a restart. */
async function camera(b: Behaviour = {}) {
  const state = { pass: LAB, saved: LAB, changes: 0, seen: [] as string[], secretsSeen: [] as Array<{ mode: number; text: string }>, runDir: '' };
  const sockets = new Set<net.Socket>();
  const authOk = (req: http.IncomingMessage): boolean => req.headers.authorization === 'Basic ' + Buffer.from(`admin:${state.pass}`).toString('base64');
  let busyUntil = 0;
  const server = http.createServer((req, res) => {
    if (b.slowLogin && req.url === '/admin' && req.headers.authorization && !(req as { delayed?: boolean }).delayed) {
      const load = b.slowLogin.load;
      load.live += 1;
      load.peak = Math.max(load.peak, load.live);
      (req as { delayed?: boolean }).delayed = true;
      setTimeout(() => {
        load.live -= 1;
        server.emit('request', req, res);
      }, b.slowLogin.ms);
      return;
    }
    if (req.url === '/version') return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"firmware":"1.4.2"}');
    if (b.anyPassword && req.url === '/admin' && req.headers.authorization) return void res.writeHead(200).end('<h1>admin</h1>');
    if (b.busyMs && req.url === '/admin' && Date.now() < busyUntil) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    if (b.busyMs && req.url === '/admin' && authOk(req)) busyUntil = Date.now() + b.busyMs;
    if (!authOk(req)) {
      if (b.lockOnWrong && state.changes > 0 && req.headers.authorization) return void res.writeHead(429, { 'Retry-After': '1' }).end('too many attempts');
      return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }
    if (req.url === '/admin') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>admin</h1>');
    if (req.url === '/passwd' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const form = new URLSearchParams(body);
        // What a crash-safe harness must have done before asking: the new value on disk, mode 600.
        if (state.runDir && existsSync(path.join(state.runDir, 'secrets.json'))) {
          const p = path.join(state.runDir, 'secrets.json');
          state.secretsSeen.push({ mode: statSync(p).mode & 0o777, text: readFileSync(p, 'utf8') });
        }
        if (b.refuseBack && state.changes > 0) return void res.writeHead(403).end('not allowed');
        if (form.get('old') !== state.pass) return void res.writeHead(403).end('wrong current password');
        const next = form.get('new') ?? '';
        state.seen.push(next);
        state.changes++;
        const apply = (): void => {
          if (b.applies !== 'never') state.pass = next;
          if (b.applies === 'kept' || b.applies === undefined) state.saved = next;
        };
        if (b.lateMs) setTimeout(apply, b.lateMs);
        else apply();
        res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"changed":true}');
      });
      return;
    }
    if (req.url === '/reboot' && req.method === 'POST') {
      res.writeHead(200).end('{"rebooting":true}');
      if (b.restart === 'fake') return;
      // Gone for 2 s: every connection dropped and the port closed; back with what was saved.
      setTimeout(() => {
        server.close();
        for (const s of sockets) s.destroy();
        setTimeout(() => {
          state.pass = state.saved;
          server.listen(port, '127.0.0.1');
        }, 2000);
      }, 200);
      return;
    }
    res.writeHead(404).end();
  });
  server.on('connection', (s: net.Socket) => {
    s.on('error', () => undefined);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    state,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        if (server.listening) server.close(() => r());
        else r();
      }),
  };
}

const device = (port: number, extra: Partial<DeviceFileInput> = {}): DeviceFileInput => ({
  device: { name: 'cam', firmware: '1.4.2' },
  target: { host: '127.0.0.1' },
  services: [{ port, protocol: 'http' }],
  credentials: { admin: { username: 'admin', password: LAB } },
  auth: [{ port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin' }],
  update: { version: { http: { url: `http://127.0.0.1:${port}/version`, jsonPath: 'firmware' } }, settleSeconds: 0.2 },
  credentialChange: {
    account: 'admin',
    settleSeconds: 0.2,
    holdSeconds: 2,
    http: { url: `http://127.0.0.1:${port}/passwd`, method: 'POST', credential: 'admin', body: 'old={{old}}&new={{new}}' },
  },
  restart: { http: { url: `http://127.0.0.1:${port}/reboot`, method: 'POST', credential: 'admin' } },
  limits: { deviceReturnSeconds: 20, actionTimeoutSeconds: 10 },
  ...extra,
});

/** The two checks' verdicts on `input`, the run in `runDir` (a fresh folder unless given: `resume` reuses one). */
async function judged(input: DeviceFileInput, runDir?: string) {
  const r = await runWith({
    device: deviceFrom(input, path.join(mkdtempSync(path.join(tmpdir(), 'sb-cc-dev-')), 'device.yaml')),
    profile: profileOf([{ id: 'R', checks: CHECKS }]),
    probes: [...PROBES.values()],
    checks: [...ALL.values()],
    extra: runDir ? { runDir } : {},
  });
  const text = (id: string) => {
    const c = r.report.checks.find((x) => x.id === id)!;
    return `${c.rationale}\n${c.findings.map((f) => `${f.severity}: ${f.message}`).join('\n')}`;
  };
  return { v: verdicts(r.report), text, runDir: r.runDir, report: r.report };
}

/** Every file the run wrote, as text (the journal, report.json, evidence), secrets.json aside. */
function runText(dir: string): string {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]));
  return walk(dir)
    .filter((f) => path.basename(f) !== 'secrets.json')
    .map((f) => readFileSync(f, 'latin1'))
    .join('\n');
}

describe('credential change and restart persistence on loopback cameras', () => {
  it('a camera that changes, keeps and changes back: both pass; secrets.json existed (mode 600) during the change and is gone after', async () => {
    const cam = await camera();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'sb-cc-'));
      cam.state.runDir = dir;
      const r = await judged(device(cam.port), dir);
      expect(r.v).toEqual({ 'auth.credential-change': 'pass', 'resilience.restart-persistence': 'pass' });
      expect(r.text('resilience.restart-persistence')).toMatch(/stopped answering after \d+ s.*firmware 1\.4\.2 as before/);
      // The new value reached disk before the device was asked, mode 600; it was the value asked for; gone afterwards.
      const fresh = cam.state.seen[0];
      expect(fresh).toMatch(/^Sb[A-Za-z0-9]{12}-\d\d$/);
      expect(cam.state.secretsSeen[0].mode).toBe(0o600);
      expect(JSON.parse(cam.state.secretsSeen[0].text)).toMatchObject({ account: 'admin', new: fresh, original: LAB });
      expect(existsSync(path.join(dir, 'secrets.json'))).toBe(false);
      // Changed back: the lab value works, and the fresh value appears in no file of the run.
      expect(cam.state.pass).toBe(LAB);
      expect(runText(r.runDir)).not.toContain(fresh);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('the web password changes while SSH keeps the old one (one account, two interfaces): credential change fails', async () => {
    const cam = await camera();
    const ssh = await sshServer('admin', LAB);
    try {
      const input = device(cam.port, { restart: undefined });
      input.services!.push({ port: ssh.port, protocol: 'ssh' });
      input.auth!.push({ port: ssh.port, protocol: 'ssh', scheme: 'password', credential: 'admin' });
      const r = await judged(input);
      expect(r.v['auth.credential-change']).toBe('fail');
      expect(r.text('auth.credential-change')).toMatch(new RegExp(`ssh ${ssh.port} still accepts the old value; ssh ${ssh.port} refuses the new value`));
      expect(r.v['resilience.restart-persistence']).toBe('not-tested');
      expect(cam.state.pass).toBe(LAB);
    } finally {
      await ssh.close();
      await cam.close();
    }
  }, 120_000);

  it('one account on two logins the device counts apart (auth[].lockoutGroup): still one login at a time (a group says nothing of sessions), same verdict', async () => {
    const run = async (groups: boolean) => {
      const load = { live: 0, peak: 0 };
      const cam = await camera({ slowLogin: { ms: 150, load } });
      const other = await camera({ slowLogin: { ms: 150, load } });
      try {
        const input = device(cam.port, { restart: undefined });
        input.services!.push({ port: other.port, protocol: 'http' });
        input.auth!.push({ port: other.port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin' });
        if (groups) input.auth = input.auth!.map((a, n) => ({ ...a, lockoutGroup: `web-${n}` }));
        const r = await judged(input);
        return { v: r.v['auth.credential-change'], text: r.text('auth.credential-change'), peak: load.peak, back: [cam.state.pass, other.state.pass] };
      } finally {
        await other.close();
        await cam.close();
      }
    };
    const apart = await run(true);
    const together = await run(false);
    // The second camera never saw the change: it still takes the old value, either way.
    expect(apart.v).toBe('fail');
    expect(together.v).toBe('fail');
    expect(apart.text).toMatch(/still accepts the old value/);
    // A session open on one interface may refuse the other's login: never two at once, whatever the groups.
    expect(apart.peak).toBe(1);
    expect(together.peak).toBe(1);
    expect([...apart.back, ...together.back]).toEqual([LAB, LAB, LAB, LAB]);
  }, 120_000);

  it('200 to the change and nothing changed: fail; restart persistence cannot be tested (inconclusive)', async () => {
    const cam = await camera({ applies: 'never' });
    try {
      const r = await judged(device(cam.port));
      expect(r.v).toEqual({ 'auth.credential-change': 'fail', 'resilience.restart-persistence': 'inconclusive' });
      expect(r.text('auth.credential-change')).toMatch(/still accepts the old value/);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a device that applies each change 3 s after answering: asked again, it passes, and it is changed back', async () => {
    const cam = await camera({ lateMs: 3000 });
    try {
      const r = await judged(device(cam.port, { restart: undefined }));
      expect(r.v['auth.credential-change']).toBe('pass');
      expect(r.text('auth.credential-change')).not.toMatch(/could not be changed back/);
      expect(cam.state.pass).toBe(LAB);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a login that takes any password is no control: inconclusive, never "still accepts the old value"', async () => {
    const cam = await camera({ anyPassword: true });
    try {
      const r = await judged(device(cam.port, { restart: undefined }));
      expect(r.v['auth.credential-change']).toBe('inconclusive');
      expect(r.text('auth.credential-change')).toMatch(/this login refuses nothing/);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('one admin session at a time (every login refused for 2 s after a good one): the refusal of the old value is not trusted', async () => {
    const cam = await camera({ busyMs: 2000 });
    try {
      const r = await judged(device(cam.port, { restart: undefined }));
      expect(r.v['auth.credential-change']).toBe('inconclusive');
      expect(r.text('auth.credential-change')).toMatch(/the old value could not be judged \(refused .*a session or burst limit may have refused it\)/);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a login of the account starbench cannot try (RTSP) is named and keeps the check from passing', async () => {
    const cam = await camera();
    try {
      const input = device(cam.port, { restart: undefined });
      input.auth!.push({ port: 554, protocol: 'rtsp', scheme: 'digest', path: '/stream1', credential: 'admin' });
      const r = await judged(input);
      expect(r.v['auth.credential-change']).toBe('inconclusive');
      expect(r.text('auth.credential-change')).toMatch(/rtsp 554 \/stream1: the lab value did not log in before the change/);
      expect(cam.state.pass).toBe(LAB);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a lock where the old value should be refused is unknown, not a refusal', async () => {
    const cam = await camera({ lockOnWrong: true });
    try {
      const r = await judged(device(cam.port, { restart: undefined }));
      expect(r.v['auth.credential-change']).toBe('inconclusive');
      expect(r.text('auth.credential-change')).toMatch(/the old value could not be judged/);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a change kept in RAM only is lost at the restart: restart persistence fails, the change itself passes', async () => {
    const cam = await camera({ applies: 'ram' });
    try {
      const r = await judged(device(cam.port));
      expect(r.v).toEqual({ 'auth.credential-change': 'pass', 'resilience.restart-persistence': 'fail' });
      expect(r.text('resilience.restart-persistence')).toMatch(/went back to the previous value/);
      expect(cam.state.pass).toBe(LAB);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a restart that answers 200 and never happens (no UART, never away) is no evidence: inconclusive', async () => {
    const cam = await camera({ restart: 'fake' });
    try {
      const r = await judged(device(cam.port));
      expect(r.v['resilience.restart-persistence']).toBe('inconclusive');
      expect(r.text('resilience.restart-persistence')).toMatch(/no sign the device restarted/);
    } finally {
      await cam.close();
    }
  }, 120_000);

  it('a device that refuses the change back: secrets.json stays, the report says so with the value masked; the next attempt in that run folder puts it right', async () => {
    const cam = await camera({ refuseBack: true });
    try {
      const r = await judged(device(cam.port, { restart: undefined }));
      const fresh = cam.state.seen[0];
      expect(cam.state.pass).toBe(fresh);
      expect(r.text('auth.credential-change')).toMatch(/high: the lab credential "admin" could not be changed back .* may now be ••••/);
      expect(runText(r.runDir)).not.toContain(fresh);
      const left = path.join(r.runDir, 'secrets.json');
      expect(statSync(left).mode & 0o777).toBe(0o600);
      // The report says so whatever became of the probe, naming the account, never the value.
      expect(r.report.errors).toEqual(
        expect.arrayContaining([expect.objectContaining({ where: 'credential change', message: expect.stringContaining('credential "admin"') })]),
      );
      expect(JSON.parse(readFileSync(left, 'utf8'))).toMatchObject({ new: fresh, original: LAB });

      // As `resume` would: the probe runs again in the same run folder, finds secrets.json and changes the value back first.
      cam.state.changes = 0;
      const again = await judged(device(cam.port, { restart: undefined }), r.runDir);
      expect(again.text('auth.credential-change')).toMatch(/an earlier attempt left the device with its own value; it was changed back/);
      expect(existsSync(left)).toBe(false);
    } finally {
      await cam.close();
    }
  }, 180_000);

  it('a crash right after the change (secrets.json written, the run gone): the next attempt changes it back first', async () => {
    const cam = await camera();
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'sb-cc-'));
      // The device holds the value an interrupted run set; its secrets.json is all that is left.
      cam.state.pass = cam.state.saved = 'SbLeftOver12345-67';
      writeFileSync(
        path.join(dir, 'secrets.json'),
        JSON.stringify({ account: 'admin', username: 'admin', original: LAB, new: 'SbLeftOver12345-67', at: new Date().toISOString() }),
        { mode: 0o600 },
      );
      const r = await judged(device(cam.port, { restart: undefined }), dir);
      expect(r.v['auth.credential-change']).toBe('pass');
      expect(r.text('auth.credential-change')).toMatch(/changed back and the lab value logs in everywhere/);
      expect(cam.state.pass).toBe(LAB);
      expect(existsSync(path.join(dir, 'secrets.json'))).toBe(false);
    } finally {
      await cam.close();
    }
  }, 120_000);
});
