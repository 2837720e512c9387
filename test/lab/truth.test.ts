/**
 * Every lab device assessed by the real CLI, check by check, against its
 * truth.json. A check that is implemented must give the expected verdict; one
 * that is not yet implemented must say not-tested and is listed as pending
 * (jest "todo"), never counted as passed. truth.json never changes as probes land.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Report } from '../../harness/report';
import type { Verdict } from '../../harness/verdict';
import { CHECKS } from '../../profiles/checks';
import { TRUTH_DIR } from '../../fixtures/lab';
import { DEVICE_NAMES } from '../../fixtures/lab/config';
import { starbench, type CliResult } from '../helpers/cli';
import { labDevice } from './lab-state';
import { loadDeviceFile } from '../../harness/device-file/load';
import { probeContext } from '../../harness/standalone';
import { ADAPTERS } from '../../probes/credentials';

interface Truth {
  checks: Record<string, { verdict: Verdict; why: string }>;
}

const STABLE_IDS = [...CHECKS.keys()];

describe.each(DEVICE_NAMES)('lab device %s against its truth.json', (name) => {
  const truth = JSON.parse(readFileSync(path.join(TRUTH_DIR, name, 'truth.json'), 'utf8')) as Truth;
  let report: Report;
  let result: CliResult;

  beforeAll(async () => {
    const d = labDevice(name);
    const out = mkdtempSync(path.join(tmpdir(), `sb-lab-${name}-`));
    result = await starbench(['run', d.deviceFile, '--out', out, '--quiet'], { timeoutMs: 240_000 });
    const dir = readdirSync(out).find((f) => !f.endsWith('.yaml'));
    if (!dir) throw new Error(`starbench run wrote no run folder (exit ${result.code}):\n${result.stderr}`);
    report = JSON.parse(readFileSync(path.join(out, dir, 'report.json'), 'utf8')) as Report;
  }, 250_000);

  it('truth.json names every stable check id', () => {
    expect(Object.keys(truth.checks).sort()).toEqual([...STABLE_IDS].sort());
  });

  it('the run finished and its exit code follows its verdicts', () => {
    expect(report.run.incomplete).toBe(false);
    expect(result.code).toBe(report.summary.exitCode);
  });

  if (name === 'strong') {
    it('leaves the device usable: the lab credentials still work after the run (lockout waited out)', async () => {
      const device = loadDeviceFile(labDevice(name).deviceFile);
      const admin = device.credentials.admin;
      const ctx = await probeContext(device);
      const target = { adapter: 'http-basic', protocol: 'https', port: 443, path: '/cgi-bin/admin', tls: true, source: 'test' };
      expect(await ADAPTERS['http-basic'].attempt(ctx, target, admin.username, admin.password!)).toMatchObject({ kind: 'accepted' });
      const mq = device.credentials.mqtt;
      expect(await ADAPTERS.mqtt.attempt(ctx, { ...target, adapter: 'mqtt', protocol: 'mqtts', port: 8883, path: undefined }, mq.username, mq.password!)).toMatchObject({ kind: 'accepted' });
    });
  }

  for (const id of STABLE_IDS) {
    const expected = truth.checks[id]?.verdict;
    if (CHECKS.get(id)?.implemented) {
      it(`${id} is ${expected}`, () => {
        const got = report.checks.find((c) => c.id === id);
        expect({ id, verdict: got?.verdict, rationale: got?.rationale }).toEqual({ id, verdict: expected, rationale: got?.rationale });
      });
    } else {
      it(`${id} is not-tested until its probe lands`, () => {
        expect(report.checks.find((c) => c.id === id)?.verdict).toBe('not-tested');
      });
      it.todo(`${id}: expected ${expected} (${truth.checks[id]?.why})`);
    }
  }
});
