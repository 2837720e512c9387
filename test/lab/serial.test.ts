/** The serial probe on real ptys (socat): an echoing line, a login-only console, an open shell. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHECKS } from '../../profiles/checks';
import { PROBES } from '../../probes';
import { deviceFrom } from '../helpers/device';
import { profileOf, runWith } from '../helpers/run';
import { probeContext } from '../../cli/standalone';
import { runAction } from '../../probes/util/actions';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

/** A pty at a fresh path whose device side runs `program`; socat is a real peer (Debian package). */
async function console_(program: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-tty-'));
  const link = path.join(dir, 'tty');
  // socat's EXEC address does no shell quoting: the device side is a script file.
  const script = path.join(dir, 'device.sh');
  writeFileSync(script, `#!/bin/sh\n${program}\n`, { mode: 0o755 });
  const child = spawn('socat', [`PTY,link=${link},rawer,wait-slave`, `EXEC:${script},pty,stderr,setsid,ctty,sane`], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 250 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(link)) throw new Error('socat did not create the pty (is socat installed?)');
  return link;
}

async function judge(link: string) {
  const d = deviceFrom({ device: { name: 'uart' }, target: { host: '127.0.0.1', serial: { path: link, baudRate: 115200 } } });
  const { report } = await runWith({
    device: d,
    profile: profileOf([{ id: 'R', checks: ['debug.serial-console'] }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });
  return report.checks[0];
}

describe('serial console probe', () => {
  it('a line that echoes everything is not a shell (and not a pass)', async () => {
    const c = await judge(await console_('cat'));
    expect(c.verdict).toBe('inconclusive');
    expect(c.findings.some((f) => /shell without login/.test(f.message))).toBe(false);
  });

  it('a console that only ever asks for a login passes', async () => {
    const c = await judge(
      await console_(`printf 'device login: '; while read l; do printf 'Password: '; read p; printf 'Login incorrect\\r\\ndevice login: '; done`),
    );
    expect(c.verdict).toBe('pass');
  });

  it('an open shell printing a key at boot fails on both counts', async () => {
    const c = await judge(
      await console_(`echo 'net: wlan0 wpa_passphrase=s3cr3t-key'\nexec setpriv --reuid=65534 --regid=65534 --clear-groups env PS1='# ' sh -i`),
    );
    expect(c.verdict).toBe('fail');
    const messages = c.findings.map((f) => f.message).join('\n');
    expect(messages).toMatch(/a shell without login/);
    expect(messages).toMatch(/a secret is printed \(wpa_passphrase=… wpa_passphrase=s3••••\)/);
    expect(messages).not.toContain('s3cr3t-key');
  });
});

describe('hostile serial lines', () => {
  it('a line that floods (yes, as fast as the pty goes) is read within bounds: inconclusive, capped log, never pass', async () => {
    const started = Date.now();
    const c = await judge(await console_('exec yes "0123456789abcdef0123456789abcdef"'));
    expect(c.verdict).toBe('inconclusive');
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('a line that floods random bytes is no shell either', async () => {
    const c = await judge(await console_('exec cat /dev/urandom'));
    expect(['inconclusive', 'fail']).toContain(c.verdict);
    expect(c.findings.some((f) => /shell without login/.test(f.message))).toBe(false);
  });
});

describe('serial actions', () => {
  it('sends a command and reads the value the expected pattern captures; a line that never answers is bounded', async () => {
    const shell = await console_(`exec setpriv --reuid=65534 --regid=65534 --clear-groups env PS1='# ' sh -i`);
    const device = deviceFrom({ device: { name: 'uart' }, target: { host: '127.0.0.1', serial: { path: shell, baudRate: 115200 } } });
    const ctx = await probeContext(device);
    const r = await runAction(ctx, 'update.version', { serial: { send: 'echo FW=$((3+4)).1', expect: 'FW=(\\d+\\.\\d+)' } }, { read: true });
    expect(r.record).toMatchObject({ ok: true, via: 'serial', value: '7.1' });

    const silent = await console_('sleep 60');
    const quiet = deviceFrom({ device: { name: 'uart' }, target: { host: '127.0.0.1', serial: { path: silent, baudRate: 115200 } } });
    const started = Date.now();
    const q = await runAction(await probeContext(quiet), 'update.version', { serial: { send: 'version', expect: 'v(\\d+)' } }, { read: true, timeoutMs: 1500 });
    expect(q.record.ok).toBe(false);
    expect(q.record.value).toBeUndefined();
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
