/**
 * A lockout that answers 401 exactly like a wrong password, on a device
 * (a) with no lab credential declared, (b) whose declared lab credential is
 * wrong. root:anko (Mirai entry 41) is accepted when the device is not locked.
 */
import { lockoutServer } from './helpers/servers';
import { assess } from './audit-helpers';
import type { DeviceFileInput } from '../harness/device-file/schema';

const file = (port: number, lab?: [string, string]): DeviceFileInput => ({
  device: { name: 'cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  ...(lab ? { credentials: { admin: { username: lab[0], password: lab[1] } } } : {}),
  auth: [{ port, protocol: 'http', path: '/admin', scheme: 'basic', ...(lab ? { credential: 'admin' } : {}) }],
});

describe('a silent 401 lockout hides a default further down the list', () => {
  it('(a) no lab credential: not pass', async () => {
    const web = await lockoutServer('owner', 'long-unique-pw-7731', 5, { lockSeconds: 60, answer: 'silent-401', alsoAccepts: [['root', 'anko']] });
    try {
      const { report } = await assess(file(web.port), ['auth.default-credentials']);
      expect(web.stats.locks).toBeGreaterThan(0);
      expect(report.checks[0].verdict).not.toBe('pass');
    } finally {
      await web.close();
    }
  }, 120_000);

  it('(b) the declared lab credential is wrong: not pass', async () => {
    const web = await lockoutServer('owner', 'long-unique-pw-7731', 5, { lockSeconds: 60, answer: 'silent-401', alsoAccepts: [['root', 'anko']] });
    try {
      const { report } = await assess(file(web.port, ['admin', 'stale-lab-password']), ['auth.default-credentials']);
      // The wrong lab credential is caught before any guess: nothing is guessed on a login whose control fails.
      expect(report.checks[0].verdict).toBe('inconclusive');
      expect(report.checks[0].findings.map((f) => f.message).join(' ')).toMatch(/lab credential did not work before any guess/);
    } finally {
      await web.close();
    }
  }, 120_000);
});
