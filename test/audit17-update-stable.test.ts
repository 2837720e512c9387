/**
 * Audit 17: holdsStill (probes/update.ts). Two devices that install what
 * they should not, judged pass:
 *  - one that boots the tampered image (reports its version) and falls back
 *    to the old slot 1.5 s later: the reading of the tampered version is
 *    thrown away, only the version that "held still" counts → "refused";
 *  - one that installs 5 s after answering (beyond the default 3 s window):
 *    the tampered install is credited to the genuine image, the older image
 *    lands after the probe has ended → integrity and rollback pass.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceFile, DeviceFileInput } from '../harness/device-file/schema';
import { updateProbe } from '../probes/update';
import { updateIntegrityCheck, updateRollbackCheck } from '../profiles/checks/update';
import { deviceFrom } from './helpers/device';
import { firmwareDevice, makeImage, type FirmwareDevice } from './helpers/firmware-device';
import { profileOf, runWith } from './helpers/run';
import { listenOn, type Running } from './helpers/servers';

const AUTH = 'Basic ' + Buffer.from('admin:lab-secret-pass').toString('base64');
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function deviceFileFor(port: number, genuine: Buffer, older: Buffer): DeviceFile {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-a17-'));
  writeFileSync(path.join(dir, 'genuine.bin'), genuine);
  writeFileSync(path.join(dir, 'older.bin'), older);
  const base = `http://127.0.0.1:${port}`;
  const input: DeviceFileInput = {
    device: { name: 'A/B firmware device' },
    target: { host: '127.0.0.1' },
    services: [{ port, protocol: 'http' }],
    credentials: { admin: { username: 'admin', password: 'lab-secret-pass' } },
    update: {
      version: { http: { url: `${base}/version`, jsonPath: 'firmware' } },
      install: { http: { url: `${base}/upgrade`, method: 'POST', credential: 'admin' } },
      images: { genuine: './genuine.bin', older: './older.bin' },
      settleSeconds: 0.1,
      // stableSeconds: the default (3 s)
    },
    limits: { deviceReturnSeconds: 10, actionTimeoutSeconds: 5 },
  };
  return deviceFrom(input, path.join(dir, 'device.yaml'));
}

async function judge(device: DeviceFile) {
  const { report } = await runWith({
    device,
    profile: profileOf([{ id: 'R', checks: ['update.integrity', 'update.rollback'] }]),
    probes: [updateProbe],
    checks: [updateIntegrityCheck, updateRollbackCheck],
  });
  const c = (id: string) => report.checks.find((x) => x.id === id)!;
  return { integrity: c('update.integrity'), rollback: c('update.rollback') };
}

/** Boots any image it is given; one that is not a known-good image fails its health check and the old slot comes back after `fallbackMs`. */
async function abDevice(genuine: Buffer, older: Buffer, fallbackMs: number): Promise<Running & { state: { version: string; booted: string[] } }> {
  const state = { version: '1.0.0', booted: [] as string[] };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (s: number, b: unknown) => void res.writeHead(s, { 'Content-Type': 'application/json' }).end(JSON.stringify(b));
      if (req.url === '/version') return json(200, { firmware: state.version });
      if (req.headers.authorization !== AUTH) return json(401, { error: 'login' });
      if (req.url === '/upgrade' && req.method === 'POST') {
        const img = Buffer.concat(chunks);
        const m = /^IMG1 (\S+)\n/.exec(img.subarray(0, 64).toString('latin1'));
        if (!m) return json(400, { error: 'not an image' });
        const good = img.equals(genuine) || img.equals(older);
        const previous = state.version;
        state.version = m[1];
        state.booted.push(m[1] + (good ? '' : ' (bad)'));
        if (!good) setTimeout(() => (state.version = previous), fallbackMs);
        return json(200, { ok: true });
      }
      json(404, {});
    });
  });
  const r = await listenOn(server);
  return { ...r, state };
}

describe('audit17: an install is judged once the version holds still', () => {
  it('a device that boots the tampered image and falls back 1.5 s later reported running it: not a pass', async () => {
    const genuine = makeImage('1.0.1');
    const older = makeImage('0.9.0');
    const dev = await abDevice(genuine, older, 1500);
    closers.push(dev.close);
    const r = await judge(deviceFileFor(dev.port, genuine, older));
    expect(dev.state.booted[0]).toBe('1.0.1 (bad)'); // the tampered image ran and said so on /version
    // Right: fail (or at least inconclusive). Wrong (observed): pass — "refused the tampered image".
    expect(r.integrity.verdict).not.toBe('pass');
  }, 120_000);

  it('a device that installs 5 s after answering (the window is 3 s) installed the tampered and the older image: not a pass', async () => {
    const dev: FirmwareDevice = await firmwareDevice({ version: '1.0.0', install: 'anything', installDelayMs: 5000 });
    closers.push(dev.close);
    const r = await judge(deviceFileFor(dev.port, makeImage('1.0.1'), makeImage('0.9.0')));
    await new Promise((res) => setTimeout(res, 6000));
    expect(dev.state.version).toBe('0.9.0'); // the older image went in
    // Right: fail or inconclusive for both. Wrong (observed): pass, pass.
    expect({ integrity: r.integrity.verdict, rollback: r.rollback.verdict }).not.toEqual({ integrity: 'pass', rollback: 'pass' });
    expect(r.integrity.verdict).not.toBe('pass');
    expect(r.rollback.verdict).not.toBe('pass');
  }, 120_000);
});
