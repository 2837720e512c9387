/**
 * `starbench init` against every reference device, through the real CLI: the
 * whole TCP range scanned, each service and its login drafted as the real
 * daemons present them (dropbear, busybox telnetd/httpd, lighttpd, mosquitto),
 * and `doctor` on the drafted file.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseDeviceFile } from '../../harness/device-file/load';
import type { LabDeviceName } from '../../fixtures/lab/config';
import { starbench } from '../helpers/cli';
import { holdDevice, labDevice } from './lab-state';

/** What each device's daemons show a client without credentials: [port, protocol, login schemes]. */
const EXPECTED: Record<LabDeviceName, Array<[number, string, string[]]>> = {
  weak: [
    [22, 'ssh', ['password', 'publickey']],
    [23, 'telnet', ['password']],
    [80, 'http', ['basic']],
    [443, 'https', ['basic']],
    [1883, 'mqtt', []],
    [2323, 'telnet', []],
  ],
  strong: [
    [22, 'ssh', ['publickey']],
    [80, 'http', []],
    [443, 'https', ['basic']],
    [8883, 'mqtts', ['password']],
  ],
  mixed: [
    [22, 'ssh', ['password', 'publickey']],
    [80, 'http', ['basic']],
    [443, 'https', ['basic']],
    [2323, 'telnet', ['password']],
    [8883, 'mqtts', ['password']],
  ],
  'qemu-cam': [
    [22, 'ssh', ['publickey']],
    [80, 'http', []],
    [443, 'https', ['basic']],
    [8883, 'mqtts', ['password']],
  ],
};

describe.each(['weak', 'strong', 'mixed', 'qemu-cam'] as const)('starbench init on the lab %s device', (name) => {
  let draft: string;
  let file: string;
  let stderr: string;

  beforeAll(async () => {
    const release = await holdDevice(name);
    try {
      const d = labDevice(name);
      file = path.join(mkdtempSync(path.join(tmpdir(), `sb-init-${name}-`)), 'draft.yaml');
      const r = await starbench(['init', d.address, '--serial', d.serial, '--out', file], { timeoutMs: 120_000 });
      stderr = r.stderr;
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
      draft = readFileSync(file, 'utf8');
    } finally {
      await release();
    }
  }, 600_000);

  it('declares exactly the TCP services the device runs, the undeclared ones included', () => {
    const parsed = parseDeviceFile(draft, file, undefined, { allowTodo: true });
    expect(parsed.services.filter((s) => s.transport === 'tcp').map((s) => [s.port, s.protocol])).toEqual(EXPECTED[name].map(([p, proto]) => [p, proto]));
    expect(parsed.target.serial?.path).toBe(labDevice(name).serial);
  });

  it('declares each login the daemons show, with the realm or methods seen', () => {
    const parsed = parseDeviceFile(draft, file, undefined, { allowTodo: true });
    for (const [port, , schemes] of EXPECTED[name]) {
      expect({ port, schemes: parsed.auth.filter((a) => a.port === port).map((a) => a.scheme) }).toEqual({ port, schemes });
    }
    // The weak camera's web UI calls itself only "IP Camera" (it shows no model number).
    if (name !== 'strong') expect(draft).toMatch(name === 'weak' ? /basic realm "IP Camera"/ : /basic realm "SB-/);
    if (name === 'strong') {
      expect(draft).toMatch(/SSH methods: publickey/);
      expect(draft).toMatch(/redirects to https:\/\//);
      expect(draft).toMatch(/MQTT refuses an anonymous client \(CONNACK 5\)/);
      expect(draft).toMatch(/lab-key:\n\s+username: "TODO/);
    }
    if (name === 'weak') {
      expect(draft).toMatch(/Seen: port 2323 gives a shell prompt with no login/);
      expect(draft).toMatch(/Seen: port 1883: the MQTT broker accepts anonymous clients/);
    }
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it('doctor on the draft: the target answers, the UART is usable, the TODOs are counted (exit 1)', async () => {
    // Another test's run may be restarting the device (the booting camera reboots): doctor asks it when no one else does.
    const release = await holdDevice(name, 590_000);
    let r;
    try {
      r = await starbench(['doctor', file]);
    } finally {
      await release();
    }
    expect(r.stdout).toMatch(new RegExp(`ok  target ${labDevice(name).address.replace(/\./g, '\\.')}: \\d+ of \\d+ declared TCP ports answer`));
    expect(r.stdout).toContain(`ok  serial ${labDevice(name).serial}: readable and writable`);
    expect(r.stdout).toMatch(/no {2}device file .*: \d+ TODO value\(s\) left/);
    expect(r.code).toBe(1);
  }, 600_000);
});
