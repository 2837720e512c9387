/**
 * The update, personal-data and reset probes against in-process devices that
 * do what real ones get wrong: answer 200 and install nothing, reboot slowly,
 * never come back, split a value across packets, keep data after a reset.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Server as SshServer } from 'ssh2';
import type { DeviceFile, DeviceFileInput } from '../harness/device-file/schema';
import { probeContext } from '../cli/standalone';
import type { Operator } from '../harness/types';
import { updateProbe, tamperImage, unsignImage } from '../probes/update';
import { personalDataProbe } from '../probes/personal-data';
import { resetProbe } from '../probes/reset';
import { runAction } from '../probes/util/actions';
import { updateIntegrityCheck, updateRollbackCheck } from '../profiles/checks/update';
import { dataDeletionCheck } from '../profiles/checks/privacy';
import { sshKeyPair } from '../fixtures/util/ssh-key';
import { deviceFrom } from './helpers/device';
import { firmwareDevice, makeImage, signatureOf, type FirmwareDevice, type FirmwareDeviceOptions } from './helpers/firmware-device';
import { profileOf, runWith } from './helpers/run';

const CANARY = 'hanako.unit.canary@example.jp';
const running: FirmwareDevice[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.close()));
});

async function start(opts: FirmwareDeviceOptions): Promise<FirmwareDevice> {
  const d = await firmwareDevice({ userdata: { email: CANARY }, ...opts });
  running.push(d);
  return d;
}

/** A device file for the firmware device, with images written beside it. */
function deviceFileFor(dev: FirmwareDevice, versions: { older: string; genuine: string }, extra: Partial<DeviceFileInput> = {}): DeviceFile {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-fw-'));
  const genuine = makeImage(versions.genuine);
  writeFileSync(path.join(dir, 'genuine.bin'), genuine);
  writeFileSync(path.join(dir, 'older.bin'), makeImage(versions.older));
  const base = `http://127.0.0.1:${dev.port}`;
  const input: DeviceFileInput = {
    device: { name: 'Firmware test device' },
    target: { host: '127.0.0.1' },
    services: [{ port: dev.port, protocol: 'http' }],
    credentials: { admin: { username: 'admin', password: 'lab-secret-pass' } },
    update: {
      version: { http: { url: `${base}/version`, jsonPath: 'firmware' } },
      install: { http: { url: `${base}/upgrade`, method: 'POST', credential: 'admin' } },
      images: { genuine: './genuine.bin', older: './older.bin', signature: signatureOf(genuine) },
      settleSeconds: 0.1,
      // These devices install at once (but the late one below): half a second of steady version is enough here.
      stableSeconds: 0.5,
    },
    reset: { http: { url: `${base}/reset`, method: 'POST', credential: 'admin' } },
    personalData: { declared: ['email'], canaries: { email: CANARY }, readBack: [{ http: { url: `${base}/config`, credential: 'admin' } }] },
    limits: { deviceReturnSeconds: 5, actionTimeoutSeconds: 5 },
    ...extra,
  };
  return deviceFrom(input, path.join(dir, 'device.yaml'));
}

async function judgeUpdate(device: DeviceFile) {
  const { report, results } = await runWith({
    device,
    profile: profileOf([{ id: 'R', checks: ['update.integrity', 'update.rollback'] }]),
    probes: [updateProbe],
    checks: [updateIntegrityCheck, updateRollbackCheck],
  });
  const verdict = (id: string) => report.checks.find((c) => c.id === id)!;
  return { integrity: verdict('update.integrity'), rollback: verdict('update.rollback'), result: results.get('update')! };
}

describe('update images', () => {
  it('tampering flips one byte in the middle; unsigning zeroes exactly the declared region', () => {
    const img = makeImage('1.0.1');
    const t = tamperImage(img);
    expect(t.at).toBe(Math.floor(img.length / 2));
    expect([...t.image].filter((b, i) => b !== img[i])).toHaveLength(1);
    const sig = signatureOf(img);
    const u = unsignImage(img, sig);
    const changed = [...u].map((b, i) => (b !== img[i] ? i : -1)).filter((i) => i >= 0);
    expect(changed.every((i) => i >= sig.offset && i < sig.offset + sig.length)).toBe(true);
    expect(u.subarray(sig.offset, sig.offset + sig.length).every((b) => b === 0)).toBe(true);
    expect(() => tamperImage(img, img.length)).toThrow(/beyond the genuine image/);
  });
});

describe('update probe and checks', () => {
  it('a device that verifies signatures and refuses downgrades passes both, and ends on the genuine version', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', antiRollback: true });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.integrity.verdict).toBe('pass');
    expect(r.rollback.verdict).toBe('pass');
    expect(dev.state.version).toBe('1.0.1');
    expect(dev.state.installs).toBe(4);
    expect(r.integrity.findings.map((f) => f.message).join('\n')).toMatch(/tampered image .*refused, version 1\.0\.0 → 1\.0\.0; install 400/);
  });

  it('a device that installs anything fails integrity and rollback, with the versions as evidence', async () => {
    const dev = await start({ version: '1.0.0', install: 'anything' });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.integrity).toMatchObject({ verdict: 'fail', rationale: 'the device installed the tampered image' });
    expect(r.integrity.findings[0].message).toMatch(/tampered image was installed: version 1\.0\.0 → 1\.0\.1/);
    expect(r.rollback).toMatchObject({ verdict: 'fail' });
    // The unsigned image came when the device already ran 1.0.1: undecidable, and said so.
    expect(r.integrity.findings.map((f) => f.message).join('\n')).toMatch(/unsigned image .*cannot tell/);
  });

  it('a device that answers the upload at once and installs 1.5 s later has the install credited to the image that caused it', async () => {
    const dev = await start({ version: '1.0.0', install: 'anything', installDelayMs: 1500 });
    const file = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    // No signature region: the image after the tampered one is the genuine one, which a late install would be credited to.
    const { signature: _sig, ...images } = file.update!.images!;
    const r = await judgeUpdate({ ...file, update: { ...file.update!, images, stableSeconds: 3 } });
    expect(r.integrity).toMatchObject({ verdict: 'fail', rationale: 'the device installed the tampered image' });
  }, 60_000);

  it('a device that answers 200 but never changes version installed nothing: inconclusive, not pass', async () => {
    const dev = await start({ version: '1.0.0', install: 'ignore' });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.integrity.verdict).toBe('inconclusive');
    expect(r.integrity.rationale).toMatch(/genuine image was not accepted either/);
    expect(r.rollback.verdict).toBe('inconclusive');
    expect(r.integrity.findings.map((f) => f.message).join('\n')).toMatch(/answered 200 but the version stayed 1\.0\.0/);
  });

  it('a device that reboots slowly after an install is waited for, and judged on the version it comes back with', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', rebootMs: 1500 });
    const started = Date.now();
    // An install shows only after the reboot: each refusal is watched at least 1.5 × that long before it counts
    // (declared here; with a shorter window the refusals before the genuine image are unknown, as the next test shows).
    const file = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    const r = await judgeUpdate({ ...file, update: { ...file.update!, stableSeconds: 3.5 } });
    expect(r.rollback.verdict).toBe('fail');
    expect(r.integrity.verdict).toBe('pass');
    const steps = r.result.observations.find((o) => o.kind === 'update-sequence')!.data.steps as Array<{
      step: string;
      return: { afterMs: number; returned: boolean };
    }>;
    const older = steps.find((s) => s.step === 'older')!;
    expect(older.return).toMatchObject({ returned: true });
    expect(older.return.afterMs).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 90_000);

  it('the same device watched for less time than it takes to show an install: the refusals before the genuine image are unknown, not refused', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', rebootMs: 1500 });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.integrity.verdict).toBe('inconclusive');
    expect(r.integrity.findings.map((f) => f.message).join('\n')).toMatch(/a later install cannot be ruled out \(a maker can declare update\.stableSeconds/);
    // The restart is recorded as evidence (the device went away after the genuine image, not after the refused ones)...
    const steps = r.result.observations.find((o) => o.kind === 'update-sequence')!.data.steps as Array<{ step: string; awayAfterMs?: number }>;
    expect(steps.find((s) => s.step === 'genuine')?.awayAfterMs).toBeDefined();
    expect(steps.find((s) => s.step === 'tampered')?.awayAfterMs).toBeUndefined();
    // ...and never credited as a refusal: that restart may have been the tampered image's, started late.
  }, 60_000);

  it('a tampered image answered 200 whose version did not move is unknown, not refused: the device said it took it', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', antiRollback: true, refusalStatus: 200 });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.integrity.verdict).toBe('inconclusive');
    expect(r.integrity.rationale).toMatch(/tampered image's fate is unknown: the install request answered 200 \(the device took the image\)/);
  });

  it('a device that takes the tampered image with 200 and installs it 5 s later, as the genuine one is uploaded, never passes', async () => {
    // The late install lands in the genuine image's settle window, and both carry the genuine version: without the
    // 200 rule the genuine image was credited with it and the tampered one judged refused (an audit's scenario).
    const dev = await start({ version: '1.0.0', install: 'anything', installDelayMs: 5050 });
    const file = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    const { signature: _sig, ...images } = file.update!.images!;
    const r = await judgeUpdate({ ...file, update: { ...file.update!, images, settleSeconds: 2, stableSeconds: 3 } });
    expect(r.integrity.verdict).not.toBe('pass');
  }, 90_000);

  it('a device that never comes back: bounded wait, inconclusive, no further image offered', async () => {
    const dev = await start({ version: '1.0.0', install: 'anything', neverReturns: true });
    const device = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }, { limits: { deviceReturnSeconds: 2, actionTimeoutSeconds: 3 } });
    const started = Date.now();
    const r = await judgeUpdate(device);
    // The tampered image was accepted (200 and the device went away) but the version never showed: not proven.
    expect(r.integrity.verdict).toBe('inconclusive');
    expect(r.integrity.rationale).toMatch(/did not answer within 2 s after the tampered image/);
    expect(r.rollback.verdict).toBe('inconclusive');
    expect(dev.state.installs).toBe(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('without an older image declared, rollback is not-tested and says what to declare', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', antiRollback: true });
    const device = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    delete device.update!.images!.older;
    const r = await judgeUpdate(device);
    expect(r.integrity.verdict).toBe('pass');
    expect(r.rollback).toMatchObject({ verdict: 'not-tested', rationale: 'no older image offered: update.images.older is not declared' });
  });

  it('an unreadable version stops before any install', async () => {
    const dev = await start({ version: '1.0.0', install: 'anything' });
    const device = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    device.update!.version!.http!.jsonPath = 'no.such.field';
    const r = await judgeUpdate(device);
    expect(r.integrity.verdict).toBe('inconclusive');
    expect(r.integrity.rationale).toMatch(/could not read the version before installing anything: the answer has no string at no\.such\.field/);
    expect(dev.state.installs).toBe(0);
  });
});

async function judgeReset(device: DeviceFile, extra = {}) {
  const { report } = await runWith({
    device,
    profile: profileOf([{ id: 'R', checks: ['privacy.data-deletion'] }]),
    probes: [resetProbe],
    checks: [dataDeletionCheck],
    extra,
  });
  return report.checks.find((c) => c.id === 'privacy.data-deletion')!;
}

describe('personal data and reset', () => {
  it('finds a canary split across two TCP writes, and says the read-back went over clear text', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify' });
    const device = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    const out = await personalDataProbe.run(await probeContext(device));
    const channel = out.observations.find((o) => o.kind === 'personal-data-channel')!;
    expect(channel.data).toMatchObject({ ok: true, categories: ['email'], clearText: true, authenticated: true });
  });

  it('a reset that wipes the data passes; one that keeps it fails', async () => {
    const wipes = await start({ version: '1.0.0', install: 'verify', wipeOnReset: true });
    expect(await judgeReset(deviceFileFor(wipes, { older: '0.9.0', genuine: '1.0.1' }))).toMatchObject({ verdict: 'pass' });
    expect(wipes.state).toMatchObject({ resets: 1, userdata: { email: '' } });
    const keeps = await start({ version: '1.0.0', install: 'verify', wipeOnReset: false });
    const c = await judgeReset(deviceFileFor(keeps, { older: '0.9.0', genuine: '1.0.1' }));
    expect(c).toMatchObject({ verdict: 'fail', rationale: 'email survived the factory reset' });
  });

  it('when the canaries are not visible before, the device is not reset and the check is inconclusive', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', wipeOnReset: true, userdata: { email: 'someone.else@example.org' } });
    const c = await judgeReset(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(c.verdict).toBe('inconclusive');
    expect(c.rationale).toMatch(/positive control failed/);
    expect(dev.state.resets).toBe(0);
  });

  it('a read-back refused after the reset proves nothing: inconclusive', async () => {
    // Many devices also reset the admin password: afterwards the read-back gets 401, which is not "deleted".
    const dev = await start({ version: '1.0.0', install: 'verify', wipeOnReset: false, resetRestoresDefaultPassword: true });
    const c = await judgeReset(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(c.verdict).toBe('inconclusive');
    expect(c.rationale).toMatch(/after the reset these channels could not be read, so deletion is not shown: personalData.readBack\[0\]/);
  });

  it('an operator reset is not-tested in a non-interactive run, and asks the operator in an interactive one', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', wipeOnReset: true });
    const device = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    device.reset = { operator: { instructions: 'Hold the reset button for 10 seconds' } };
    const skipped = await judgeReset(device);
    expect(skipped).toMatchObject({ verdict: 'not-tested', rationale: 'probe reset skipped: the reset is an operator step and this run is non-interactive' });
    const asked: string[] = [];
    const operator: Operator = {
      confirm: async (text) => {
        asked.push(text);
        // the person presses the button
        dev.state.userdata = { email: '' };
        return true;
      },
      ask: async () => '',
    };
    const c = await judgeReset(device, { operator });
    expect(asked).toEqual(['Hold the reset button for 10 seconds']);
    expect(c.verdict).toBe('pass');
  });
});

describe('ssh actions', () => {
  it('runs a command with the lab credential, feeds stdin, and reads the version from the expected pattern', async () => {
    const hostKey = sshKeyPair('ed25519').private;
    let stdin = 0;
    const server = new SshServer({ hostKeys: [hostKey] }, (client) => {
      client.on('authentication', (ctx) => (ctx.method === 'password' && ctx.password === 'lab-secret-pass' ? ctx.accept() : ctx.reject(['password'])));
      client.on('session', (accept) => {
        accept().on('exec', (acceptExec, _reject, info) => {
          const stream = acceptExec();
          stream.on('data', (c: Buffer) => (stdin += c.length));
          stream.on('end', () => {
            stream.write(info.command === 'cat /etc/version' ? 'build 7\nVERSION=3.1.4\n' : `got ${stdin}\n`);
            stream.exit(0);
            stream.end();
          });
        });
      });
      client.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = ((server as unknown as { _srv: net.Server })._srv.address() as net.AddressInfo).port;
    try {
      const device = deviceFrom({
        device: { name: 'ssh' },
        target: { host: '127.0.0.1' },
        credentials: { admin: { username: 'admin', password: 'lab-secret-pass' } },
      });
      const ctx = await probeContext(device);
      const read = await runAction(
        ctx,
        'update.version',
        { ssh: { command: 'cat /etc/version', credential: 'admin', port, expect: 'VERSION=(\\S+)' } },
        { read: true },
      );
      expect(read.record).toMatchObject({ ok: true, status: 0, value: '3.1.4', via: 'ssh', clearText: false });
      const install = await runAction(
        ctx,
        'update.install',
        { ssh: { command: 'sysupgrade -', credential: 'admin', port } },
        { body: Buffer.alloc(5000), bodyLabel: 'genuine image' },
      );
      expect(install.record).toMatchObject({ ok: true, status: 0 });
      expect(install.text).toBe('got 5000\n');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('a reset that did not happen', () => {
  it('a refused reset request is inconclusive, not a failure of deletion', async () => {
    const dev = await start({ version: '1.0.0', install: 'verify', wipeOnReset: true });
    const device = deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' });
    device.reset = { http: { url: `http://127.0.0.1:${dev.port}/no-such-reset`, method: 'POST', credential: 'admin' } };
    const c = await judgeReset(device);
    expect(c.verdict).toBe('inconclusive');
    expect(c.rationale).toMatch(/the reset action did not succeed \(status 404\)/);
  });
});

describe('a device already running the genuine version', () => {
  it('cannot show whether it refused the tampered image: inconclusive, not pass', async () => {
    // It verifies nothing, but the tampered image claims the version it already runs.
    const dev = await start({ version: '1.0.1', install: 'anything' });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.integrity.verdict).toBe('inconclusive');
    expect(r.integrity.rationale).toMatch(/already ran 1\.0\.1, the version the genuine image carries/);
    expect(r.rollback.verdict).toBe('fail');
  });
});

describe("a device that starts at the older image's version", () => {
  it('and has no anti-rollback: the older image is offered from the newest version, so the rollback shows (an audit found it passed)', async () => {
    const dev = await start({ version: '0.9.0', install: 'verify', antiRollback: false });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.rollback.verdict).toBe('fail');
    expect(r.integrity.verdict).toBe('pass');
    // the genuine image went on again afterwards: the device is left on it
    expect(dev.state.version).toBe('1.0.1');
  });

  it('and refuses downgrades: the rollback test passes', async () => {
    const dev = await start({ version: '0.9.0', install: 'verify', antiRollback: true });
    const r = await judgeUpdate(deviceFileFor(dev, { older: '0.9.0', genuine: '1.0.1' }));
    expect(r.rollback.verdict).toBe('pass');
    expect(dev.state.version).toBe('1.0.1');
  });
});
