/** The serial probe on real ptys (socat): an echoing line, a login-only console, an open shell. */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHECKS } from '../../profiles/checks';
import { PROBES } from '../../probes';
import { deviceFrom } from '../helpers/device';
import { profileOf, runWith } from '../helpers/run';
import { probeContext } from '../../cli/standalone';
import { runAction } from '../../probes/util/actions';
import type { DeviceFileInput } from '../../harness/device-file/schema';
import { listenOn } from '../helpers/servers';

/** Where a boot log pauses while the bootloader loads the kernel (keys typed meanwhile are read and ignored). */
const LOAD = '|LOAD|';
const LOADING = 'for _i in 1 2 3 4; do IFS= read -r -s -n 1 -t 0.2 _k; done';

/**
 * A UART that behaves like one: opening it prints nothing; a key gives the
 * running system's login prompt; the device boots (and the boot is printed)
 * only when `trigger` appears — which the bench power controller below creates.
 * Ctrl-C does not end it (a bootloader clears its line on one).
 */
const REAL_UART = (trigger: string, boot: string) => `trap '' INT
rm -f ${trigger}
while :; do
  if [ -e ${trigger} ]; then rm -f ${trigger}; sleep 0.3; printf '${boot.replace(LOAD, `'; ${LOADING}; printf '`)}'; sleep 0.3; printf 'device login: '; fi
  if IFS= read -r -s -n 1 -t 0.2 _k; then printf '\\r\\ndevice login: '; fi
done`;

/** The bench power controller: POST /outlet/1/cycle creates the trigger file. Listens on 127.0.0.4 (loopback), not the device's address, nor 127.0.0.2-3 where test/traffic.test.ts captures. */
async function powerController(trigger: string, works = true) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (req.method === 'POST' && req.url === '/outlet/1/cycle' && works) writeFileSync(trigger, '');
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  const l = await listenOn(server, '127.0.0.4');
  return { ...l, requests, url: `http://127.0.0.4:${l.port}/outlet/1/cycle` };
}

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

/** A pty at a fresh path whose device side runs `program`; socat is a real peer (Debian package). */
async function console_(program: string, shell = '/bin/sh'): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-tty-'));
  const link = path.join(dir, 'tty');
  // socat's EXEC address does no shell quoting: the device side is a script file.
  const script = path.join(dir, 'device.sh');
  writeFileSync(script, `#!${shell}\n${program}\n`, { mode: 0o755 });
  const child = spawn('socat', [`PTY,link=${link},rawer,wait-slave`, `EXEC:${script},pty,stderr,setsid,ctty,sane`], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 250 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(link)) throw new Error('socat did not create the pty (is socat installed?)');
  return link;
}

async function judge(link: string, extra: Partial<DeviceFileInput> = {}) {
  const d = deviceFrom({ device: { name: 'uart' }, target: { host: '127.0.0.1', serial: { path: link, baudRate: 115200 } }, ...extra });
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

  it('a console that only ever asks for a login, with no restart declared, is inconclusive: no boot was observed', async () => {
    const c = await judge(
      await console_(`printf 'device login: '; while read l; do printf 'Password: '; read p; printf 'Login incorrect\\r\\ndevice login: '; done`),
    );
    expect(c.verdict).toBe('inconclusive');
    expect(c.rationale).toMatch(/no boot was observed/);
  });

  describe('a UART that does not replay a boot on open', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-power-'));
    const trigger = path.join(dir, 'power-cycled');
    const safeBoot = `U-Boot 2023.01 (Jan 01 2025)\\r\\nautoboot: 0 (interruption disabled)\\r\\n${LOAD}Starting kernel ...\\r\\n[    0.000000] Linux version 6.1\\r\\n`;

    it('without a restart: inconclusive, and says what to declare', async () => {
      const c = await judge(await console_(REAL_UART(trigger, safeBoot), '/bin/bash'));
      expect(c.verdict).toBe('inconclusive');
      expect(c.rationale).toMatch(/declare restart: .* or power\.cycle/);
    });

    it('power-cycled through the bench power controller: the boot is watched, and a safe one passes', async () => {
      const power = await powerController(trigger);
      try {
        const c = await judge(await console_(REAL_UART(trigger, safeBoot), '/bin/bash'), { power: { cycle: { url: power.url, method: 'POST' } } });
        expect(power.requests).toEqual(['POST /outlet/1/cycle']);
        expect(c.verdict).toBe('pass');
        expect(c.rationale).toMatch(/boot watched after the restart \(POST http:\/\/127\.0\.0\.4/);
      } finally {
        await power.close();
      }
    });

    it('a power cycle after which nothing boots is inconclusive, never pass', async () => {
      const power = await powerController(trigger, false);
      try {
        const c = await judge(await console_(REAL_UART(trigger, safeBoot), '/bin/bash'), {
          power: { cycle: { url: power.url, method: 'POST' } },
          limits: { deviceReturnSeconds: 3 },
        });
        expect(c.verdict).toBe('inconclusive');
        expect(c.rationale).toMatch(/no boot was seen/);
      } finally {
        await power.close();
      }
    });

    it('a boot whose countdown stops in the bootloader, and prints a key, fails', async () => {
      const power = await powerController(trigger);
      const leaky = 'U-Boot 2023.01\\r\\nwifi: psk=leaky-key-77\\r\\nHit any key to stop autoboot:  2 \\r\\n';
      const program = REAL_UART(trigger, leaky).replace(
        `printf 'device login: '; fi\n`,
        `if IFS= read -r -s -n 1 -t 2 _k; then printf '\\r\\n=> '; read -r _l; fi; printf 'device login: '; fi\n`,
      );
      try {
        const c = await judge(await console_(program, '/bin/bash'), { power: { cycle: { url: power.url, method: 'POST' } } });
        expect(c.verdict).toBe('fail');
        expect(c.findings.map((f) => f.message).join('\n')).toMatch(/could be interrupted into the bootloader prompt/);
      } finally {
        await power.close();
      }
    });

    it('a bootloader that shows its prompt late and echoes what is typed on the prompt line is still seen interrupted', async () => {
      // The extra keys (space, Ctrl-C) go out before the prompt shows and are echoed after it, on its line, as a UART does.
      const power = await powerController(trigger);
      const slow = 'U-Boot 2023.01\\r\\nHit any key to stop autoboot:  2 \\r\\n';
      const program = REAL_UART(trigger, slow).replace(
        `printf 'device login: '; fi\n`,
        `if IFS= read -r -s -n 1 -t 2 _k; then stty -isig; sleep 0.6; printf '\\r\\n=> '; while IFS= read -r -s -n 1 -t 1.5 c; do printf '%s' "$c"; done; stty isig; fi; printf 'device login: '; fi\n`,
      );
      try {
        const c = await judge(await console_(program, '/bin/bash'), { power: { cycle: { url: power.url, method: 'POST' } } });
        expect(c.verdict).toBe('fail');
        expect(c.findings.map((f) => f.message).join('\n')).toMatch(/could be interrupted into the bootloader prompt/);
      } finally {
        await power.close();
      }
    });

    it('a power request to anything but the declared URL is refused by the scope guard', async () => {
      const { ScopeGuard } = await import('../../harness/scope');
      const g = new ScopeGuard({ host: '127.0.0.1' }, { cycle: { url: 'http://127.0.0.2:9/outlet/1/cycle' } });
      expect(() => g.assertPowerUrl('http://127.0.0.2:9/outlet/2/cycle')).toThrow(/refused power request/);
      expect(() => g.assertHost('127.0.0.2')).toThrow(/outside the declared target/);
      expect(() => g.assertPowerUrl('http://127.0.0.2:9/outlet/1/cycle')).not.toThrow();
    });
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
