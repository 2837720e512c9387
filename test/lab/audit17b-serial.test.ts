/**
 * A third audit of debug.serial-console: a countdown in words the probe did
 * not know (RedBoot's "enter ^C to abort") was "no countdown offered", and the
 * bootloader was called not interruptible without a key ever pressed. Keys
 * are now pressed through every watched boot, whatever it says.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CHECKS } from '../../profiles/checks';
import { PROBES } from '../../probes';
import { deviceFrom } from '../helpers/device';
import { profileOf, runWith } from '../helpers/run';
import type { DeviceFileInput } from '../../harness/device-file/schema';
import { listenOn } from '../helpers/servers';

const children: ChildProcess[] = [];
afterAll(() => children.forEach((c) => c.kill('SIGKILL')));

async function pty(program: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-tty-'));
  const link = path.join(dir, 'tty');
  const script = path.join(dir, 'device.sh');
  writeFileSync(script, `#!/bin/bash\nstty -isig\n${program}\n`, { mode: 0o755 });
  const child = spawn('socat', [`PTY,link=${link},rawer,wait-slave`, `EXEC:${script},pty,stderr,setsid,ctty,sane`], { stdio: 'ignore' });
  children.push(child);
  for (let i = 0; i < 250 && !existsSync(link); i++) await new Promise((r) => setTimeout(r, 20));
  if (!existsSync(link)) throw new Error('socat did not create the pty');
  return link;
}

async function power(trigger: string) {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    writeFileSync(trigger, '');
    res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok":true}');
  });
  const l = await listenOn(server, '127.0.0.2');
  return { ...l, requests, url: `http://127.0.0.2:${l.port}/outlet/1/cycle` };
}

it('RedBoot "Executing boot script in 2.000 seconds - enter ^C to abort" (Ctrl-C gives RedBoot>) is not a locked bootloader', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-power-'));
  const trigger = path.join(dir, 'cycled');
  const p = await power(trigger);
  const uart = `rm -f ${trigger}
while :; do
  if [ -e ${trigger} ]; then rm -f ${trigger}; sleep 0.2
    printf '+Ethernet eth0: MAC address 00:11:22:33:44:55\\r\\nRedBoot(tm) bootstrap and debug environment [ROM]\\r\\n== Executing boot script in 2.000 seconds - enter ^C to abort\\r\\n'
    end=$((SECONDS+3)); stopped=
    while [ $SECONDS -lt $end ]; do if IFS= read -r -s -n 1 -t 0.2 k; then [ "$k" = $'\\x03' ] && { stopped=1; break; }; fi; done
    if [ -n "$stopped" ]; then printf '^C\\r\\nRedBoot> '; while IFS= read -r l; do printf '\\r\\nRedBoot> '; done; fi
    printf 'Uncompressing Linux... done, booting the kernel.\\r\\n[    0.000000] Booting Linux on physical CPU 0x0\\r\\ndevice login: '
  fi
  if IFS= read -r -s -n 1 -t 0.2 _k; then printf '\\r\\ndevice login: '; fi
done`;
  try {
    const d = deviceFrom({
      device: { name: 'uart' },
      target: { host: '127.0.0.1', serial: { path: await pty(uart), baudRate: 115200 } },
      power: { cycle: { url: p.url, method: 'POST' } },
      limits: { deviceReturnSeconds: 10 } as never,
    } as DeviceFileInput);
    const { report } = await runWith({
      device: d,
      profile: profileOf([{ id: 'R', checks: ['debug.serial-console'] }]),
      probes: [...PROBES.values()],
      checks: [...CHECKS.values()],
    });
    expect(p.requests).toEqual(['POST /outlet/1/cycle']);
    expect(report.checks[0].verdict).not.toBe('pass');
  } finally {
    await p.close();
  }
}, 60_000);
