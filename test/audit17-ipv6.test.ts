/**
 * Both address families: a shell bound only to the device's IPv6 address is
 * found when the device file declares target.host6 (loopback: ::1), reported
 * with its family, and asked like any other port.
 */
import net from 'node:net';
import { assess, verdicts } from './audit-helpers';
import { listenOn, openShellServer } from './helpers/servers';
import { ScopeGuard } from '../harness/scope';
import { parseDeviceFile } from '../harness/device-file/load';

/** A root shell with no login, listening on `host` only. */
const openShell = (host: string) => listenOn(openShellServer(), host);

/** Something declared on IPv4, so that the IPv4 side of the scan has an answer. */
async function banner() {
  return listenOn(net.createServer((s) => s.end('SSH-2.0-dropbear_2022.83\r\n')));
}

describe('a service on IPv6 only', () => {
  it('is found on target.host6, reported as IPv6 only, and its open shell fails the checks', async () => {
    const v4 = await banner();
    const shell = await openShell('::1');
    try {
      const { report } = await assess(
        {
          device: { name: 'dual-stack cam' },
          target: { host: '127.0.0.1', host6: '::1' },
          scan: { tcp: `${v4.port},${shell.port}`, scanner: 'builtin', udp: '9' },
          services: [{ port: v4.port, protocol: 'ssh' }],
        },
        ['exposure.undeclared-services', 'auth.unauthenticated-access'],
      );
      const v = verdicts(report);
      expect(v['exposure.undeclared-services']).toBe('fail');
      const exposure = report.checks.find((c) => c.id === 'exposure.undeclared-services')!;
      expect(exposure.findings.some((f) => f.port === shell.port && /open on IPv6 only and not declared/.test(f.message))).toBe(true);
      expect(v['auth.unauthenticated-access']).toBe('fail');
      const port = report.observations['tcp-ports'].observations.find((o) => o.port === shell.port);
      expect(port?.data).toMatchObject({ state: 'open', families: ['ipv6'] });
    } finally {
      await shell.close();
      await v4.close();
    }
  }, 60_000);

  it('without target.host6 the IPv6-only shell is not looked for (and nothing learned is probed)', async () => {
    const v4 = await banner();
    const shell = await openShell('::1');
    try {
      const { report } = await assess(
        {
          device: { name: 'v4 only' },
          target: { host: '127.0.0.1' },
          scan: { tcp: `${v4.port},${shell.port}`, scanner: 'builtin', udp: '9' },
          services: [{ port: v4.port, protocol: 'ssh' }],
        },
        ['exposure.undeclared-services'],
      );
      const port = report.observations['tcp-ports'].observations.find((o) => o.port === shell.port);
      expect(port).toBeUndefined();
    } finally {
      await shell.close();
      await v4.close();
    }
  }, 60_000);

  it('the IPv6 side is scanned and recorded on its own (a refusal there is an answer)', async () => {
    const v4 = await banner();
    try {
      const { report } = await assess(
        {
          device: { name: 'dual-stack, v6 dark' },
          target: { host: '127.0.0.1', host6: '::1' },
          scan: { tcp: `${v4.port}`, scanner: 'builtin', udp: '9' },
          services: [{ port: v4.port, protocol: 'ssh' }],
        },
        ['exposure.undeclared-services'],
      );
      // Nothing listens on ::1 at that port: refused (closed), which is an answer.
      const scan = report.observations['tcp-ports'].observations.find((o) => o.kind === 'tcp-scan');
      expect(scan?.data).toMatchObject({ ipv6: { address: '::1', closed: 1, open: [] } });
    } finally {
      await v4.close();
    }
  }, 60_000);
});

describe('target.host6', () => {
  it('must be a global IPv6 literal, and is the only IPv6 address in scope', () => {
    const base = 'device: { name: x }\ntarget: { host: 127.0.0.1, host6: "%" }\n';
    expect(() => parseDeviceFile(base.replace('%', 'fe80::1'))).toThrow(/global IPv6 address literal/);
    expect(() => parseDeviceFile(base.replace('%', 'cam.local'))).toThrow(/global IPv6 address literal/);
    const d = parseDeviceFile(base.replace('%', '[2001:2:0:1::2]'));
    expect(d.target.host6).toBe('2001:2:0:1::2');
    const g = new ScopeGuard(d.target);
    expect(g.allows('2001:2:0:1::2')).toBe(true);
    expect(g.allows('2001:2:0:1::3')).toBe(false);
  });
});
