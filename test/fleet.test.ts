/**
 * Fleet runs: several device files (or a folder) assessed at once, one run
 * folder each plus fleet.json/fleet.html; a broken device file and a device
 * that hangs do not hold the others; a global connection cap holds across
 * devices while each device keeps its own limit.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startDemoDevice, type DemoDevice } from '../fixtures/demo-device';
import { fleetExit, type FleetSummary } from '../cli/fleet';
import { Semaphore } from '../harness/limiter';
import { starbench } from './helpers/cli';
import { listenOn, type Running } from './helpers/servers';

let demo: DemoDevice;
let tarpit: Running;
beforeAll(async () => {
  demo = await startDemoDevice();
  tarpit = await listenOn(net.createServer(() => undefined));
});
afterAll(async () => {
  await demo?.stop();
  await tarpit?.close();
});

describe('fleet', () => {
  it('a folder of device files: one run each, a summary, a broken file and a hanging device hold nobody', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-fleet-'));
    const devices = path.join(dir, 'devices');
    mkdirSync(devices);
    const demoFile = demo.writeDeviceFile(devices);
    writeFileSync(path.join(devices, 'broken.yaml'), 'device: { name: broken }\ntarget: { host: 127.0.0.1 }\nservices: [ { port: 70000, protocol: ssh } ]\n');
    writeFileSync(
      path.join(devices, 'tarpit.yaml'),
      stringify({
        device: { name: 'Tarpit box' },
        target: { host: '127.0.0.1' },
        services: [{ port: tarpit.port, protocol: 'ssh' }],
        scan: { tcp: String(tarpit.port) },
        limits: { deadlineSeconds: 20, probeTimeoutSeconds: 8 },
      }),
    );
    const out = path.join(dir, 'runs');
    const r = await starbench(['run', devices, '--out', out, '--non-interactive', '--parallel', '3', '--global-connections', '6'], { timeoutMs: 90_000 });
    expect(r.code).toBe(1);
    const fleetDir = readdirSync(out).find((f) => f.startsWith('fleet-'))!;
    const summary = JSON.parse(readFileSync(path.join(out, fleetDir, 'fleet.json'), 'utf8')) as FleetSummary;
    expect(summary).toMatchObject({ parallel: 3, globalConnections: 6, exitCode: 1 });
    const row = (name: string) => summary.devices.find((d) => d.file.endsWith(name))!;
    expect(row('broken.yaml')).toMatchObject({
      verdict: 'refused',
      exitCode: 2,
      error: expect.stringMatching(/broken\.yaml:3: services\[0\]\.port must be 1-65535/),
    });
    expect(row(path.basename(demoFile))).toMatchObject({
      device: 'starbench demo camera',
      verdict: 'fail',
      exitCode: 1,
      failed: expect.arrayContaining(['auth.default-credentials']),
    });
    expect(row('tarpit.yaml').verdict).not.toBe('pass');
    // the hanging device did not hold the demo: the demo finished well before it
    expect(row(path.basename(demoFile)).durationMs).toBeLessThan(row('tarpit.yaml').durationMs);
    // one run folder per assessed device, each with its own report
    for (const d of summary.devices.filter((x) => x.runDir)) expect(readdirSync(d.runDir!)).toContain('report.html');
    expect(readFileSync(path.join(out, fleetDir, 'fleet.html'), 'utf8')).toContain('starbench demo camera');
    // progress names every device
    for (const name of ['broken', 'tarpit', path.basename(demoFile, '.yaml')]) expect(r.stderr).toContain(`[${name}`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 100_000);

  it('a bad option is refused once, before any device is touched', async () => {
    const r = await starbench(['run', 'a.yaml', 'b.yaml', '--parallel', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--parallel takes a whole number from 1 to 64/);
  });

  it('exit code: interrupted, then failed, then refused input, then undecided', () => {
    expect(fleetExit([0, 3, 2, 1])).toBe(1);
    expect(fleetExit([0, 3, 2])).toBe(2);
    expect(fleetExit([0, 3])).toBe(3);
    expect(fleetExit([1, 130])).toBe(130);
    expect(fleetExit([0, 0])).toBe(0);
  });
});

describe('global connection cap', () => {
  it('devices keep their own limits and together never exceed the global one', async () => {
    const global = new Semaphore(5);
    const devices = [new Semaphore(4, global), new Semaphore(4, global), new Semaphore(4, global)];
    let live = 0;
    let peak = 0;
    await Promise.all(
      devices.flatMap((d) =>
        Array.from({ length: 20 }, async () => {
          const release = await d.acquire();
          live += 1;
          peak = Math.max(peak, live);
          await new Promise((r) => setTimeout(r, 2));
          live -= 1;
          release();
        }),
      ),
    );
    expect(peak).toBe(5);
    expect(global.peak).toBe(5);
    for (const d of devices) expect(d.peak).toBeLessThanOrEqual(4);
  });
});
