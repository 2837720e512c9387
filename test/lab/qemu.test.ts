/**
 * The booting reference device (qemu-cam): a QEMU VM that runs U-Boot, Linux
 * and busybox init. Its network is its namespace's tap and nothing else; its
 * UART replays nothing; its state survives power cuts and reboots; and a
 * U-Boot built without autoboot interruption is seen not to stop, on a boot
 * the probe caused and watched.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ssh2';
import { labRestore } from '../../fixtures/lab';
import { cameraEnvironment, stateDisk, UBOOT_ROM, withEnvironment, readEnvironment } from '../../fixtures/lab/qemu/build';
import { linkUart, monitor, monitorSocket, startQemu, vmNetworks, waitForMonitor } from '../../fixtures/lab/qemu/vm';
import { loadDeviceFile } from '../../harness/device-file/load';
import type { DeviceFile } from '../../harness/device-file/schema';
import { probeContext } from '../../cli/standalone';
import { runAction } from '../../probes/util/actions';
import { closeSerialPort, openSerialPort } from '../../probes/util/serial-port';
import { SerialConsoleFact } from '../../probes/serial';
import { CHECKS } from '../../profiles/checks';
import { PROBES } from '../../probes';
import { deviceFrom } from '../helpers/device';
import { profileOf, runWith } from '../helpers/run';
import { listenOn } from '../helpers/servers';
import { alive, holdDevice, labDevice } from './lab-state';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One command over SSH with the lab key (the camera's admin is its root account). */
function ssh(device: DeviceFile, command: string, timeoutMs = 20_000): Promise<string> {
  const cred = device.credentials['lab-key'];
  return new Promise((resolve, reject) => {
    const c = new Client();
    const timer = setTimeout(() => {
      c.end();
      reject(new Error(`ssh "${command}": no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('ready', () =>
      c.exec(command, (err, stream) => {
        if (err) return reject(err);
        let out = '';
        stream.on('data', (b: Buffer) => (out += b.toString()));
        stream.stderr.on('data', (b: Buffer) => (out += b.toString()));
        stream.on('close', () => {
          clearTimeout(timer);
          c.end();
          resolve(out);
        });
      }),
    );
    c.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    c.connect({ host: device.target.host, port: 22, username: cred.username, privateKey: readFileSync(cred.privateKey!), readyTimeout: 10_000 });
  });
}

/** The kernel's id of this boot: a new one after every restart. */
async function bootId(device: DeviceFile): Promise<string> {
  return (await ssh(device, 'cat /proc/sys/kernel/random/boot_id')).trim();
}

/** The version the device reports, polled (bounded) until it answers. */
async function versionWhenBack(device: DeviceFile, ms = 90_000): Promise<string> {
  const ctx = await probeContext(device);
  const until = Date.now() + ms;
  for (;;) {
    const r = await runAction(ctx, 'update.version', device.update!.version!, { read: true, once: true, timeoutMs: 3000 });
    if (r.record.ok && r.record.value) return r.record.value;
    if (Date.now() > until) throw new Error(`the camera did not answer its version within ${ms} ms`);
    await sleep(500);
  }
}

/** Wait (bounded) until SSH stops answering: the restart has begun. */
async function goneAway(device: DeviceFile, ms = 30_000): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    try {
      await ssh(device, 'true', 3000);
    } catch {
      return;
    }
    await sleep(300);
  }
  throw new Error(`the camera was still up ${ms} ms after the restart request`);
}

function post(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { 'Content-Length': 0 }, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the booting camera (qemu-cam)', () => {
  let release: (() => Promise<void>) | undefined;
  let device: DeviceFile;

  beforeAll(async () => {
    release = await holdDevice('qemu-cam');
    device = loadDeviceFile(labDevice('qemu-cam').deviceFile);
  }, 650_000);

  afterAll(async () => {
    await release?.();
  });

  it('has no network but the tap in its namespace: one NIC, no user-mode network; the guest sees eth0 and lo and has no default route', async () => {
    const d = labDevice('qemu-cam');
    const nets = await vmNetworks({ dir: path.dirname(d.deviceFile) });
    expect(nets.split('\n').filter((l) => /type=/.test(l))).toEqual([
      expect.stringMatching(/virtio-net-pci\.0: .*type=nic,model=virtio-net-pci/),
      expect.stringMatching(/lan: .*type=tap,ifname=tap0,script=no,downscript=no/),
    ]);
    expect(nets).not.toMatch(/type=user|slirp|hostfwd/);
    // QEMU's own command line: no default devices, no NIC but the declared one.
    const pid = readFileSync(path.join(path.dirname(d.deviceFile), 'qemu.pid'), 'utf8').trim();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    expect(cmdline).toEqual(expect.arrayContaining(['-nodefaults', '-nic', 'none']));
    expect(cmdline.join(' ')).not.toMatch(/-nic user|-net user|user,/);
    const inside = await ssh(device, 'ls /sys/class/net; echo ---; ip route; ip -6 route');
    const [links, routes] = inside.split('---');
    expect(links.trim().split(/\s+/).sort()).toEqual(['eth0', 'lo']);
    expect(routes).not.toMatch(/default/);
  });

  it('its UART replays nothing: an opener sees nothing until a power cycle, then U-Boot, its countdown, the kernel and a login prompt', async () => {
    const link = labDevice('qemu-cam').serial;
    // A restore by the test before this one may still be finishing its boot: let the console go quiet first (3 s of
    // silence, at most 90 s), then open it again — what a fresh opener sees is what is asserted.
    const settle = await openSerialPort(link, 115200);
    let last = Date.now();
    settle.on('data', () => (last = Date.now()));
    const t0 = Date.now();
    while (Date.now() - last < 3000 && Date.now() - t0 < 90_000) await sleep(200);
    await closeSerialPort(settle);
    const port = await openSerialPort(link, 115200);
    let text = '';
    port.on('data', (b: Buffer) => (text += b.toString('latin1')));
    try {
      await sleep(2000);
      expect(text).toBe('');
      const started = Date.now();
      expect(await post(device.power!.cycle.url)).toBe(200);
      while (!/login: $/.test(text) && Date.now() - started < 60_000) await sleep(100);
      const order = [/U-Boot 20\d\d/, /Hit any key to stop autoboot/, /Starting kernel/, /SB-CAM-Q ready/, /login: $/].map((re) => text.search(re));
      expect(order.every((i) => i >= 0)).toBe(true);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      // Power-on to the login prompt well inside the 30-s budget (TCG, 2-s countdown included).
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await closeSerialPort(port);
    }
    await versionWhenBack(device);
  }, 90_000);

  it('an installed firmware and the owner data survive a power cut (monitor reset) and an in-guest reboot', async () => {
    const ctx = await probeContext(device);
    const bootBefore = await bootId(device);
    const install = await runAction(ctx, 'update.install', device.update!.install!, {
      body: readFileSync(device.update!.images!.genuine!),
      bodyLabel: 'genuine',
    });
    expect(install.record.status).toBe(200);
    // The install reboots the camera into the new image.
    await goneAway(device);
    expect(await versionWhenBack(device)).toBe('3.1.2');
    expect(await bootId(device)).not.toBe(bootBefore);
    for (const restart of ['power', 'ssh'] as const) {
      const before = await bootId(device);
      if (restart === 'power') expect(await post(device.power!.cycle.url)).toBe(200);
      else await ssh(device, 'reboot').catch(() => '');
      await goneAway(device);
      expect({ restart, version: await versionWhenBack(device) }).toEqual({ restart, version: '3.1.2' });
      expect(await bootId(device)).not.toBe(before);
      const config = await runAction(ctx, 'personal-data.readBack', device.personalData!.readBack[0], { read: true });
      expect(config.text).toContain(device.personalData!.canaries.email);
    }
    // Rollback protection holds after the restarts: the older image is still refused.
    const older = await runAction(ctx, 'update.install', device.update!.install!, { body: readFileSync(device.update!.images!.older!), bodyLabel: 'older' });
    expect(older.record.status).toBe(409);
  }, 300_000);

  it('`lab restore` writes the state disk back and powers the camera on again: the version it was enrolled with', async () => {
    expect(await versionWhenBack(device)).toBe('3.1.2');
    await labRestore(['qemu-cam']);
    expect(await versionWhenBack(device)).toBe('3.1.0');
  }, 120_000);
});

describe('a U-Boot built with no autoboot interruption (bootdelay -2), on a boot the probe causes', () => {
  it('the serial probe presses keys through the whole boot, sees no bootloader prompt and a login: pass', async () => {
    const cam = path.dirname(labDevice('qemu-cam').deviceFile);
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-uboot-'));
    const rom = path.join(dir, 'u-boot.rom');
    writeFileSync(rom, withEnvironment(readFileSync(UBOOT_ROM), cameraEnvironment({ bootdelay: -2 })));
    expect(readEnvironment(readFileSync(rom))).toMatchObject({ bootdelay: '-2' });
    stateDisk(path.join(dir, 'state.img'), path.join(cam, 'state-src'));
    // No NIC at all: this VM only boots and prints.
    const vm = { name: 'uboot-strong', dir };
    const pid = startQemu(vm, { rom, bootDisk: path.join(cam, 'firmware', 'boot.img'), stateDisk: path.join(dir, 'state.img') });
    // The bench power controller of this VM: a power cycle is a reset on its monitor.
    const power = http.createServer((req, res) => {
      void monitor(monitorSocket(vm), 'system_reset').then(
        () => res.writeHead(200).end('{"ok":true}'),
        () => res.writeHead(503).end(),
      );
    });
    const l = await listenOn(power, '127.0.0.2');
    try {
      await waitForMonitor(vm);
      const link = await linkUart(vm);
      const d = deviceFrom({
        device: { name: 'strong U-Boot' },
        target: { host: '127.0.0.1', serial: { path: link, baudRate: 115200 } },
        power: { cycle: { url: `http://127.0.0.2:${l.port}/cycle`, method: 'POST' } },
        limits: { deviceReturnSeconds: 60 },
      });
      const { report, results } = await runWith({
        device: d,
        profile: profileOf([{ id: 'R', checks: ['debug.serial-console'] }]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      const facts = results.get('serial')!.observations.find((o) => o.kind === SerialConsoleFact.kind)!.data as Record<string, unknown>;
      expect(facts).toMatchObject({ bootObserved: true, countdownOffered: false, bootloaderInterrupted: false, loginPrompt: true, shellWithoutLogin: false });
      // Keys from U-Boot's first line until the kernel started (with bootdelay -2 that is about a second).
      expect(facts.interruptKeys).toBeGreaterThanOrEqual(1);
      expect(report.checks[0].verdict).toBe('pass');
    } finally {
      await l.close();
      // This VM is the test's own: stopped by its pid, waited for, and its folder (keys, canaries) removed.
      process.kill(pid, 'SIGTERM');
      for (let i = 0; i < 50 && alive(pid); i++) await sleep(100);
      if (alive(pid)) process.kill(pid, 'SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
