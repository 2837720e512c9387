/** A target in the lab range with no device behind it: the blackhole route answers, starbench must not pass. */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { Report } from '../../harness/report';
import { starbench } from '../helpers/cli';
import { labDevice } from './lab-state';

it('an unreachable device ends with inconclusive/error verdicts and exit 3', async () => {
  labDevice('weak'); // the blackhole route exists while the lab is up
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-unreach-'));
  const file = path.join(dir, 'gone.yaml');
  writeFileSync(
    file,
    stringify({
      device: { name: 'Nobody home' },
      target: { host: '198.18.250.2' },
      services: [
        { port: 22, protocol: 'ssh' },
        { port: 80, protocol: 'http' },
      ],
      limits: { deadlineSeconds: 30, connectTimeoutMs: 500 },
    }),
  );
  const r = await starbench(['run', file, '--out', dir, '--quiet']);
  expect(r.code).toBe(3);
  expect(r.ms).toBeLessThan(30_000);
  const report = JSON.parse(
    readFileSync(
      path.join(
        dir,
        readdirSync(dir).find((f) => !f.endsWith('.yaml'))!,
        'report.json',
      ),
      'utf8',
    ),
  ) as Report;
  const tcp = report.observations['tcp-ports'].observations.find((o) => o.kind === 'tcp-scan');
  expect(tcp?.data.aborted).toMatch(/none of the 2 declared TCP ports answered \(unreachable\)/);
  expect(report.checks.find((c) => c.id === 'exposure.undeclared-services')?.verdict).toBe('inconclusive');
  expect(report.checks.find((c) => c.id === 'auth.default-credentials')?.verdict).toBe('inconclusive');
  expect(report.checks.some((c) => c.verdict === 'pass')).toBe(false);
});
