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

it('a declared IPv6 address with no device behind it (blackholed) leaves exposure unknown, although IPv4 is clean', async () => {
  const weak = labDevice('weak');
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-unreach6-'));
  const file = path.join(dir, 'half.yaml');
  writeFileSync(
    file,
    stringify({
      device: { name: 'IPv6 dark' },
      // 2001:2:0:250::/64 has no veth: the host's blackhole route for 2001:2::/48 answers.
      target: { host: weak.address, host6: '2001:2:0:250::2' },
      services: [{ port: 22, protocol: 'ssh' }],
      scan: { tcp: '22', udp: '9', scanner: 'builtin' },
      limits: { deadlineSeconds: 30, connectTimeoutMs: 500 },
    }),
  );
  const r = await starbench(['run', file, '--out', dir, '--quiet', '--only', 'exposure.undeclared-services']);
  expect(r.code).toBe(3);
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
  expect(tcp?.data).toMatchObject({ open: [22], ipv6: { address: '2001:2:0:250::2', open: [] } });
  const c = report.checks.find((x) => x.id === 'exposure.undeclared-services')!;
  expect(c.verdict).toBe('inconclusive');
  expect(c.rationale).toMatch(/IPv6/);
});
