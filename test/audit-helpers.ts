import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';

export async function assess(input: DeviceFileInput, checks: string[], dir?: string) {
  const d = dir ?? mkdtempSync(path.join(tmpdir(), 'sb-audit-'));
  return runWith({
    device: deviceFrom(input, path.join(d, 'device.yaml')),
    profile: profileOf([{ id: 'R', checks }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });
}
export const verdicts = (r: { checks: Array<{ id: string; verdict: string }> }) => Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));

/** An HTTP camera with the lab's Basic login (admin:lab-pass-8c1e) on `loginPath`, plus whatever else the scenario declares. */
export const labWebDevice = (port: number, loginPath = '/admin', extra: Partial<DeviceFileInput> = {}): DeviceFileInput => ({
  device: { name: 'cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
  auth: [{ port, protocol: 'http', path: loginPath, scheme: 'basic', credential: 'admin' }],
  ...extra,
});
