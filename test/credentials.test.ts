import net from 'node:net';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { miraiList } from '../probes/credentials/dictionary';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { basicAuthServer, listenOn, sshServer } from './helpers/servers';

function device(extra: Partial<DeviceFileInput>, ports: number[]) {
  return deviceFrom({
    device: { name: 'cred test' },
    target: { host: '127.0.0.1' },
    scan: { tcp: ports.join(',') },
    ...extra,
  });
}

async function assess(d: ReturnType<typeof device>) {
  return runWith({
    device: d,
    profile: profileOf([{ id: 'R', checks: ['auth.default-credentials'] }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });
}

const entryOf = (u: string, p: string) => miraiList().find((e) => e.username === u && e.password === p)!.entry;

describe('credentials probe and auth.default-credentials', () => {
  it('fails on the Nth Mirai entry over SSH, naming the entry and masking the password', async () => {
    const ssh = await sshServer('root', 'vizxv');
    try {
      const { report } = await assess(device({ services: [{ port: ssh.port, protocol: 'ssh' }] }, [ssh.port]));
      const check = report.checks[0];
      expect(check.verdict).toBe('fail');
      expect(check.findings[0].message).toBe(`ssh on ${ssh.port} accepted username "root" with password •••• — matched the Mirai list entry ${entryOf('root', 'vizxv')}`);
      expect(JSON.stringify(report)).not.toContain('vizxv');
    } finally {
      await ssh.close();
    }
  });

  it('passes only after every entry was refused', async () => {
    const ssh = await sshServer('root', 'a-unique-password-9f3a');
    try {
      const { report } = await assess(device({ services: [{ port: ssh.port, protocol: 'ssh' }] }, [ssh.port]));
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ tried: miraiList().length, complete: true, accepted: [] });
      expect(report.checks[0].verdict).toBe('pass');
      expect(ssh.stats.attempts).toBeGreaterThanOrEqual(miraiList().length);
    } finally {
      await ssh.close();
    }
  });

  it('finds an HTTP Basic default on a declared login path', async () => {
    const web = await basicAuthServer('admin', '1234');
    try {
      const { report } = await assess(
        device({ services: [{ port: web.port, protocol: 'http' }], auth: [{ port: web.port, protocol: 'http', path: '/admin', scheme: 'basic' }] }, [web.port]),
      );
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings[0].message).toContain(`matched the Mirai list entry ${entryOf('admin', '1234')}`);
    } finally {
      await web.close();
    }
  });

  it('stays under a declared lockout and says how far it got (inconclusive, not pass)', async () => {
    const web = await basicAuthServer('admin', 'unique-pass-77', { lockAfter: 5 });
    try {
      const { report } = await assess(
        device(
          {
            services: [{ port: web.port, protocol: 'http' }],
            auth: [{ port: web.port, protocol: 'http', path: '/admin', scheme: 'basic', bruteForce: 'lockout', lockoutAfter: 5, lockoutSeconds: 60 }],
          },
          [web.port],
        ),
      );
      expect(web.stats.failures).toBe(4);
      expect(web.stats.locked).toBe(false);
      expect(report.checks[0].verdict).toBe('inconclusive');
      expect(report.checks[0].rationale).toContain(`tried 4/${miraiList().length}`);
    } finally {
      await web.close();
    }
  });

  it('a server that drops every connection gives inconclusive, not pass', async () => {
    const dropper = await listenOn(net.createServer((s) => s.destroy()));
    try {
      const { report } = await assess(device({ services: [{ port: dropper.port, protocol: 'ssh' }] }, [dropper.port]));
      expect(report.checks[0].verdict).toBe('inconclusive');
      const obs = report.observations.credentials.observations.find((o) => o.kind === 'login-attempts')!;
      expect(obs.data).toMatchObject({ stopReason: 'errors', complete: false });
    } finally {
      await dropper.close();
    }
  });

  it('no login anywhere is not-applicable, with the scan as evidence', async () => {
    const quiet = await listenOn(net.createServer((s) => s.end()));
    try {
      const { report } = await assess(device({ services: [{ port: quiet.port, protocol: 'other' }] }, [quiet.port]));
      expect(report.checks[0]).toMatchObject({ verdict: 'not-applicable' });
      expect(report.checks[0].evidence).toContain('probe:credentials');
    } finally {
      await quiet.close();
    }
  });
});
