/**
 * `npm run bench:boot`: how long the booting reference device (qemu-cam)
 * takes, on this machine, from a restart to each stage of its boot, watched
 * on its UART and its network: U-Boot's banner, the kernel handed over, the
 * login prompt, HTTPS answering. Five power cycles through the bench power
 * controller (the QEMU monitor) and five in-guest reboots over SSH. Not part
 * of `npm test`. Only the lab device and its power controller are contacted.
 */
import https from 'node:https';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { labDown, labUp } from '../fixtures/lab';
import { labConfig } from '../fixtures/lab/config';
import { loadDeviceFile } from '../harness/device-file/load';
import type { DeviceFile } from '../harness/device-file/schema';
import { closeSerialPort, openSerialPort } from '../probes/util/serial-port';
import { fmt, table } from './util';
import { hasBlackhole } from '../fixtures/lab/net';

const ROUNDS = 5;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function versionAnswers(device: DeviceFile): Promise<boolean> {
  return new Promise((resolve) => {
    const req = https.get(device.update!.version!.http!.url, { rejectUnauthorized: false, timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
  });
}

function powerCycle(device: DeviceFile): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(device.power!.cycle.url, { method: 'POST', headers: { 'Content-Length': 0 } }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end();
  });
}

function sshReboot(device: DeviceFile): Promise<void> {
  const cred = device.credentials['lab-key'];
  return new Promise((resolve) => {
    const c = new Client();
    c.on('ready', () => c.exec('reboot', () => setTimeout(() => (c.end(), resolve()), 200)));
    c.on('error', () => resolve());
    c.connect({ host: device.target.host, username: cred.username, privateKey: readFileSync(cred.privateKey!), readyTimeout: 10_000 });
  });
}

interface Stages {
  uboot?: number;
  kernel?: number;
  login?: number;
  https?: number;
}

async function measure(device: DeviceFile, restart: () => Promise<void>): Promise<Stages> {
  const port = await openSerialPort(device.target.serial!.path, 115200);
  let text = '';
  let t0 = Date.now();
  const stages: Stages = {};
  port.on('data', (b: Buffer) => {
    text += b.toString('latin1');
    const at = Date.now() - t0;
    if (stages.uboot === undefined && /U-Boot 20\d\d/.test(text)) stages.uboot = at;
    if (stages.kernel === undefined && /Starting kernel/.test(text)) stages.kernel = at;
    // A login prompt counts once the kernel of this boot has started (a prompt left from the boot before does not).
    if (stages.login === undefined && stages.kernel !== undefined && /login: $/.test(text)) stages.login = at;
  });
  try {
    // QEMU notices a new reader of its pty within a second: until then what the guest prints is dropped.
    await sleep(1500);
    text = '';
    t0 = Date.now();
    await restart();
    // The device answers until it goes down: HTTPS counts only once the kernel has been handed over.
    while (Date.now() - t0 < 90_000) {
      if (stages.kernel !== undefined && (await versionAnswers(device))) {
        stages.https = Date.now() - t0;
        break;
      }
      await sleep(100);
    }
    while (stages.login === undefined && Date.now() - t0 < 90_000) await sleep(100);
  } finally {
    await closeSerialPort(port);
  }
  return stages;
}

async function main(): Promise<void> {
  const started = Date.now();
  // A lab instance of its own (prefix sbbt, 198.19.0.0/16): the restarts never reach a camera a test is using.
  const cfg = labConfig({ STARBENCH_LAB_PREFIX: 'sbbt', STARBENCH_LAB_NET: '198.19' });
  const cam = (await labUp(['qemu-cam'], cfg)).devices.find((d) => d.name === 'qemu-cam')!;
  try {
    if (!hasBlackhole()) throw new Error('the 198.18.0.0/15 blackhole route is missing: refusing to send benchmark traffic');
    await bench(loadDeviceFile(cam.deviceFile), Date.now() - started);
  } finally {
    await labDown(['qemu-cam'], cfg);
  }
}

async function bench(device: DeviceFile, upMs: number): Promise<void> {
  console.log(`lab up qemu-cam (build its firmware, boot): ${fmt(upMs)}`);
  const rows: string[][] = [['restart', 'U-Boot banner', 'kernel started', 'HTTPS answers', 'login prompt']];
  const cell = (ms?: number): string => (ms === undefined ? 'not seen' : fmt(ms));
  const all: Stages[] = [];
  for (const [name, restart] of [
    ['power cycle (monitor reset)', () => powerCycle(device)],
    ['ssh reboot (busybox init)', () => sshReboot(device)],
  ] as const) {
    for (let i = 0; i < ROUNDS; i++) {
      const s = await measure(device, restart);
      all.push(s);
      rows.push([`${name} #${i + 1}`, cell(s.uboot), cell(s.kernel), cell(s.https), cell(s.login)]);
    }
  }
  console.log(table(rows));
  const worst = Math.max(...all.map((s) => Math.max(s.https ?? Infinity, s.login ?? Infinity)));
  console.log(`\nworst restart to services up and login prompt: ${fmt(worst)} (budget: 30 s under TCG)`);
}

main().catch((err: Error) => {
  console.error(`bench:boot: ${err.message}`);
  process.exit(1);
});
