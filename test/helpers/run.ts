import { z } from 'zod';
import { defineFact } from '../../harness/facts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceFile } from '../../harness/device-file/schema';
import { createLogger } from '../../harness/logger';
import type { Profile } from '../../harness/profile';
import { executeRun, type RunOptions } from '../../harness/runner';
import { SecretRegistry } from '../../harness/secrets';
import type { Check, Probe } from '../../harness/types';
import { ReporterMultiplexer, type Reporter } from '../../reports/reporter';

export function profileOf(reqs: Array<{ id: string; checks: string[] }>): Profile {
  return {
    id: 'test-profile',
    title: 'Test profile',
    scheme: 'test',
    requirements: reqs.map((r) => ({ id: r.id, title: { en: r.id }, level: 'mandatory', assessedBy: 'device', checks: r.checks, confidence: 'confirmed' })),
  };
}

export async function runWith(opts: {
  device: DeviceFile;
  profile: Profile;
  probes: Probe[];
  checks: Check[];
  reporters?: Reporter[];
  extra?: Partial<RunOptions>;
}) {
  const runDir = opts.extra?.runDir ?? mkdtempSync(path.join(tmpdir(), 'sb-run-'));
  const secrets = SecretRegistry.fromDevice(opts.device);
  const reporter = new ReporterMultiplexer(opts.reporters ?? []);
  const outcome = await executeRun({
    device: opts.device,
    profile: opts.profile,
    probes: new Map(opts.probes.map((p) => [p.id, p])),
    checks: new Map(opts.checks.map((c) => [c.id, c])),
    runDir,
    runId: 'test-run',
    reporter,
    log: createLogger({ secrets }),
    secrets,
    ...opts.extra,
  });
  return { ...outcome, runDir, reporter };
}

/** The fact kind test probes record: `x`, with any data. */
export const X_FACT = defineFact('x', z.record(z.string(), z.unknown()));
