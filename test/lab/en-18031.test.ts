/**
 * EN 18031's two live tests on the reference lab, contacting only lab devices:
 *
 * - RLM-1 (resilience.network-load): a fragile service on the weak camera's
 *   namespace (socat whose handler stops the listener when more than ten
 *   connections arrive in a second) falls over under a burst of 20/s for 2 s
 *   and stays down: fail. The same with a watchdog that restarts it: pass.
 *   The strong hub's lighttpd takes the same burst: pass. The burst is bounded:
 *   the service counts what it got.
 * - CCK-3 (crypto.unique-device-keys): the strong hub and the mixed plug,
 *   declared as a second unit of the hub's model, compared from their saved
 *   runs pass (each has its own dropbear key); with the plug's dropbear
 *   restarted on the hub's key file, the comparison fails.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { deviceNet, labConfig } from '../../fixtures/lab/config';
import { restartDropbearWithKey, startFragileService } from '../../fixtures/lab/daemons';
import type { Report } from '../../harness/report';
import { starbench } from '../helpers/cli';
import { holdDevice, labDevice } from './lab-state';

const cfg = labConfig();
const out = mkdtempSync(path.join(tmpdir(), 'sb-lab-en18031-'));
const copies: string[] = [];

/** A copy of a lab device file next to it (its relative paths still hold), changed by `edit`. */
function variant(name: 'weak' | 'strong' | 'mixed', suffix: string, edit: (d: Record<string, unknown>) => void): string {
  const file = labDevice(name).deviceFile;
  const d = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(d);
  const copy = path.join(path.dirname(file), `${path.basename(file, '.yaml')}-${suffix}.yaml`);
  writeFileSync(copy, stringify(d));
  copies.push(copy);
  return copy;
}

async function runOnly(file: string, only: string, sub: string): Promise<{ runDir: string; report: Report }> {
  const r = await starbench(
    ['run', file, '--profile', 'en-18031-1', '--only', only, '--out', path.join(out, sub), '--format', 'json', '--quiet', '--non-interactive'],
    {
      timeoutMs: 240_000,
    },
  );
  const runDir = /report: (\S+)/.exec(r.stdout)?.[1];
  if (!runDir) throw new Error(`run ${sub}: exit ${r.code}\n${r.stderr}`);
  return { runDir, report: JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report };
}

const check = (report: Report, id: string) => report.checks.find((c) => c.id === id)!;

describe('EN 18031 live tests on the lab', () => {
  const releases: Array<() => Promise<void>> = [];
  const stops: Array<() => void> = [];
  beforeAll(async () => {
    for (const d of ['weak', 'strong', 'mixed'] as const) releases.push(await holdDevice(d));
  }, 1_300_000);
  afterAll(async () => {
    for (const s of stops) s();
    for (const c of copies) rmSync(c, { force: true });
    for (const r of releases) await r();
  });

  it('RLM-1: a service that falls over under a small burst fails; with a watchdog, and lighttpd, it passes', async () => {
    const weak = deviceNet(cfg, 'weak');
    stops.push(startFragileService(weak, 8099, { fallAt: 10, watchdog: false }));
    stops.push(startFragileService(weak, 8098, { fallAt: 10, watchdog: true }));
    await new Promise((r) => setTimeout(r, 500));
    const burst = { enabled: true, rate: 20, seconds: 2, recoverySeconds: 6, stableSeconds: 3 };
    const withService = (port: number) => (d: Record<string, unknown>) => {
      d.services = [...(d.services as unknown[]), { port, protocol: 'http', description: 'fragile web service (test)' }];
      d.resilience = { ...burst, ports: [port] };
    };
    const fragile = await runOnly(variant('weak', 'load-8099', withService(8099)), 'resilience.network-load', 'fragile');
    expect(check(fragile.report, 'resilience.network-load')).toMatchObject({ verdict: 'fail', rationale: expect.stringContaining('port 8099') });
    const hits = readFileSync(path.join(weak.dir, 'data', 'fragile-8099.hits'), 'utf8')
      .trim()
      .split('\n').length;
    // the baseline and at most 40 burst connections reach it (it dies on the 11th within a second)
    expect(hits).toBeLessThanOrEqual(41);

    const watched = await runOnly(variant('weak', 'load-8098', withService(8098)), 'resilience.network-load', 'watchdog');
    expect(check(watched.report, 'resilience.network-load').verdict).toBe('pass');

    const hub = await runOnly(
      variant('strong', 'load-443', (d) => void (d.resilience = { ...burst, ports: [443] })),
      'resilience.network-load',
      'lighttpd',
    );
    expect(check(hub.report, 'resilience.network-load')).toMatchObject({ verdict: 'pass', rationale: expect.stringContaining('port 443: 40 connections') });
  }, 600_000);

  it('CCK-3: two units with their own keys pass; the plug restarted on the hub’s host key fails', async () => {
    const only = 'comms.ssh,crypto.unique-device-keys';
    const hub = await runOnly(labDevice('strong').deviceFile, only, 'hub');
    // A second unit of the hub's model (CCK-3 compares units of one model): the plug, declared as one.
    const hubModel = (parse(readFileSync(labDevice('strong').deviceFile, 'utf8')) as { device: { model: string } }).device.model;
    const secondUnit = variant('mixed', 'second-unit', (d) => void ((d.device as Record<string, unknown>).model = hubModel));
    const plug = await runOnly(secondUnit, only, 'plug');
    const compare = async (other: string, sub: string) => {
      const dir = path.join(out, sub);
      const r = await starbench(['report', hub.runDir, '--profile', 'en-18031-1', '--out', dir, '--format', 'json', '--compare-keys', other, '--quiet']);
      expect(r.stderr).toBe('');
      return check(JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report, 'crypto.unique-device-keys');
    };
    expect(await compare(plug.runDir, 'distinct')).toMatchObject({ verdict: 'pass', rationale: expect.stringContaining('none shared') });

    const mixed = deviceNet(cfg, 'mixed');
    const shared = path.join(mixed.dir, 'keys', 'dropbear_shared_from_hub');
    copyFileSync(path.join(deviceNet(cfg, 'strong').dir, 'keys', 'dropbear_ed25519'), shared);
    const own = await restartDropbearWithKey(mixed, shared);
    try {
      const cloned = await runOnly(secondUnit, only, 'plug-cloned');
      const c = await compare(cloned.runDir, 'cloned');
      expect(c.verdict).toBe('fail');
      expect(c.findings[0].message).toMatch(/SSH 22 ssh-ed25519 host key \(SHA256:\S+\) is also SSH 22 ssh-ed25519 host key on /);
    } finally {
      await restartDropbearWithKey(mixed, own);
    }
    // the plug has its own key again
    const back = await runOnly(secondUnit, only, 'plug-back');
    expect((await compare(back.runDir, 'back')).verdict).toBe('pass');
  }, 900_000);
});
