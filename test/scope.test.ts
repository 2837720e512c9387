// No test may send a DNS query off the machine: the resolver is mocked.
jest.mock('node:dns/promises', () => ({
  lookup: jest.fn(async (host: string) => {
    if (host === 'cam.lab.test')
      return [
        { address: '127.0.0.1', family: 4 },
        { address: '::1', family: 6 },
      ];
    throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  }),
}));

import net from 'node:net';
import { ConnectError, DeviceConnector } from '../harness/connector';
import { ScopeGuard } from '../harness/scope';
import type { Check, Probe } from '../harness/types';
import { deviceFrom, minimalDevice } from './helpers/device';
import { profileOf, runWith, X_FACT } from './helpers/run';

describe('scope guard', () => {
  it('allows only the target and what it resolves to', async () => {
    const g = new ScopeGuard({ host: 'cam.lab.test' });
    expect(await g.resolve()).toEqual(['127.0.0.1', '::1']);
    expect(g.allows('127.0.0.1')).toBe(true);
    expect(g.allows('::ffff:127.0.0.1')).toBe(true);
    expect(g.allows('[::1]')).toBe(true);
    expect(g.allows('CAM.lab.test')).toBe(true);
    expect(g.allows('127.0.0.2')).toBe(false);
    expect(() => g.assertUrl('http://198.51.100.7/update')).toThrow(/refused request to 198\.51\.100\.7: outside the declared target cam\.lab\.test/);
  });

  it('refuses a serial port other than the declared one', () => {
    const g = new ScopeGuard({ host: '127.0.0.1', serial: { path: '/dev/ttyUSB0' } });
    expect(() => g.assertSerial('/dev/ttyUSB0')).not.toThrow();
    expect(() => g.assertSerial('/dev/ttyS0')).toThrow(/TARGET_OUT_OF_SCOPE|refused serial port \/dev\/ttyS0/);
  });

  it('a target that does not resolve fails every probe, never passes', async () => {
    const d = deviceFrom({ ...minimalDevice, target: { host: 'no-such-host.test' } });
    const probe: Probe = {
      id: 'p',
      title: 'p',
      needs: ['host'],
      facts: [X_FACT],
      run: async () => ({ observations: [{ kind: 'x', summary: 'x', data: {} }] }),
    };
    const check: Check = {
      id: 'c',
      title: 'c',
      failsWhen: '',
      probes: ['p'],
      implemented: true,
      judge: () => ({ verdict: 'pass', rationale: 'should not be reached', findings: [] }),
    };
    const { report } = await runWith({ device: d, profile: profileOf([{ id: 'R1', checks: ['c'] }]), probes: [probe], checks: [check] });
    // The check says pass regardless; the harness must not let it.
    expect(report.checks[0].verdict).toBe('error');
    expect(report.observations.p.status).toBe('failed');
    expect(report.errors[0]).toMatchObject({ where: 'resolve target', message: expect.stringMatching(/cannot resolve target\.host no-such-host\.test/) });
  });
});

describe('device connector', () => {
  it('never has more connections open than the limit', async () => {
    let open = 0;
    let peak = 0;
    const server = net.createServer((s) => {
      open += 1;
      peak = Math.max(peak, open);
      s.on('close', () => (open -= 1));
      setTimeout(() => s.destroy(), 30);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    const g = new ScopeGuard({ host: '127.0.0.1' });
    await g.resolve();
    const c = new DeviceConnector(g, 3, 1000);
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const s = await c.tcp(port);
        await new Promise((r) => s.once('close', r));
      }),
    );
    server.close();
    expect(c.opened).toBe(20);
    expect(c.slots.peak).toBe(3);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('classifies a refused connection', async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const g = new ScopeGuard({ host: '127.0.0.1' });
    await g.resolve();
    const err = await new DeviceConnector(g, 1, 1000).tcp(port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).kind).toBe('refused');
  });
});

describe('redirects are recorded, never followed', () => {
  it('a device redirecting to another address gets the whole assessment, and the other address gets nothing', async () => {
    const { createServer } = await import('node:http');
    const { listenOn } = await import('./helpers/servers');
    const { deviceFrom } = await import('./helpers/device');
    const { profileOf, runWith } = await import('./helpers/run');
    const { PROBES } = await import('../probes');
    const { CHECKS } = await import('../profiles/checks');
    let elsewhereHits = 0;
    const elsewhere = createServer((_q, res) => {
      elsewhereHits += 1;
      res.end('you should not be here');
    });
    await new Promise<void>((r) => elsewhere.listen(0, '127.0.0.2', r));
    const otherPort = (elsewhere.address() as { port: number }).port;
    const device = await listenOn(
      createServer((_q, res) => {
        res.writeHead(302, { Location: `http://127.0.0.2:${otherPort}/login` });
        res.end();
      }),
    );
    try {
      const d = deviceFrom({
        device: { name: 'redirector' },
        target: { host: '127.0.0.1' },
        services: [{ port: device.port, protocol: 'http' }],
        auth: [{ port: device.port, protocol: 'http', path: '/admin', scheme: 'basic' }],
        scan: { tcp: String(device.port), udp: String(device.port) },
        limits: { probeTimeoutSeconds: 20, deadlineSeconds: 40 },
      });
      const { report } = await runWith({
        device: d,
        profile: profileOf([{ id: 'R', checks: [...CHECKS.keys()] }]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      expect(elsewhereHits).toBe(0);
      const text = JSON.stringify(report.observations.plaintext);
      expect(text).toContain(`HTTP 302 to http://127.0.0.2:${otherPort}/login (recorded, not followed`);
    } finally {
      await device.close();
      await new Promise<void>((r) => elsewhere.close(() => r()));
    }
  }, 60_000);
});
