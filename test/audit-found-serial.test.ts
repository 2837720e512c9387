/**
 * debug.serial-console: a pass needs an observed boot. These consoles never
 * showed one (or showed an interruptible bootloader the probe did not test),
 * so the verdict must not be pass.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { listenOn } from './helpers/servers';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

async function pty(program: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-tty-'));
  const link = path.join(dir, 'tty');
  const script = path.join(dir, 'device.sh');
  writeFileSync(script, `#!/bin/bash\n${program}\n`, { mode: 0o755 });
  const child = spawn('socat', [`PTY,link=${link},rawer,wait-slave`, `EXEC:${script},pty,stderr,setsid,ctty,sane`], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 250 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(link)) throw new Error('socat did not create the pty');
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
  return { check: report.checks[0], obs: report.observations.serial?.observations };
}

/** A bench power controller on 127.0.0.4 (127.0.0.2-3 are where test/traffic.test.ts captures) that answers 200; `trigger` (if given) is created to boot the fake device. */
async function power(trigger?: string) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (trigger) writeFileSync(trigger, '');
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  const l = await listenOn(server, '127.0.0.4');
  return { ...l, requests, url: `http://127.0.0.4:${l.port}/outlet/1/cycle` };
}

// A running system's login prompt: nothing on open; every line typed is taken as a user name (the tty echoes it).
const LOGIN_ONLY = `while IFS= read -r l; do printf 'Password: '; IFS= read -r p; printf '\\r\\n%% Authentication failed\\r\\ndevice login: '; done`;

describe('serial: a "boot" that is not one', () => {
  it('restart: { serial: { send: reboot } } typed at a login prompt (only the echo comes back, nothing reboots) is not a boot', async () => {
    const c = await judge(await pty(LOGIN_ONLY), { restart: { serial: { send: 'reboot' } }, limits: { deviceReturnSeconds: 3 } as never });
    // The device never rebooted: its bootloader and boot log were never seen.
    expect(c.check.verdict).toBe('inconclusive');
  }, 60_000);

  it('a power controller that answers 200 but nothing reboots, on a console that logs a line every two seconds, is not a boot', async () => {
    const p = await power();
    const chatty = `while :; do if IFS= read -r -s -n 1 -t 2 _k; then printf '\\r\\ndevice login: '; else printf '[ 42.000000] wlan0: link up\\r\\n'; fi; done`;
    try {
      const c = await judge(await pty(chatty), { power: { cycle: { url: p.url, method: 'POST' } }, limits: { deviceReturnSeconds: 3 } as never });
      expect(p.requests).toEqual(['POST /outlet/1/cycle']);
      expect(c.check.verdict).toBe('inconclusive');
    } finally {
      await p.close();
    }
  }, 60_000);

  it('a console that prints "Press any key to continue" when opened (no restart declared) has shown no boot', async () => {
    const fake = `printf 'Press any key to continue\\r\\n'; while :; do if IFS= read -r -s -n 1 -t 0.2 _k; then printf '\\r\\ndevice login: '; fi; done`;
    const c = await judge(await pty(fake));
    expect(c.check.verdict).toBe('inconclusive');
  }, 60_000);
});

describe('serial: a bootloader that a CR does not stop, but another key does', () => {
  it('"Hit <SPACE> to stop autoboot": only a space interrupts; the probe sends only CR and calls the bootloader locked', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-power-'));
    const trigger = path.join(dir, 'cycled');
    const p = await power(trigger);
    // After the power cycle: U-Boot with a keyed autoboot (CONFIG_AUTOBOOT_KEYED): a space stops it, anything else is ignored.
    const uart = `rm -f ${trigger}
while :; do
  if [ -e ${trigger} ]; then rm -f ${trigger}; sleep 0.2
    printf 'U-Boot 2023.01\\r\\nHit <SPACE> to stop autoboot:  2 \\r\\n'
    end=$((SECONDS+3)); stopped=
    while [ $SECONDS -lt $end ]; do if IFS= read -r -s -n 1 -t 0.2 k; then [ "$k" = " " ] && { stopped=1; break; }; fi; done
    if [ -n "$stopped" ]; then printf '\\r\\n=> '; while IFS= read -r l; do printf '\\r\\n=> '; done; fi
    printf 'Starting kernel ...\\r\\ndevice login: '
  fi
  if IFS= read -r -s -n 1 -t 0.2 _k; then printf '\\r\\ndevice login: '; fi
done`;
    try {
      const c = await judge(await pty(uart), { power: { cycle: { url: p.url, method: 'POST' } }, limits: { deviceReturnSeconds: 10 } as never });
      // The countdown was offered and only one key was tried: "not interruptible" is not shown.
      expect(c.check.verdict).not.toBe('pass');
    } finally {
      await p.close();
    }
  }, 60_000);
});
