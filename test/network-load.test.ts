/**
 * resilience.network-load (EN 18031 RLM-1) against in-process services on
 * loopback that behave like real devices under a burst: one that shrugs it
 * off, one that falls over for good, one that falls over a few seconds after
 * the burst (a late crash must not pass), one that a watchdog brings back,
 * one that never answered (no control: inconclusive), and an HTTP service
 * that closes every connection without a word (no answer is not an answer).
 * The burst is bounded: the servers count what they got.
 */
import net from 'node:net';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';

const HOST = '127.0.0.41';

interface Fragile {
  port: number;
  accepted: number;
  close(): Promise<void>;
}

/**
 * An HTTP-ish service: answers any request with a status line. `fallAt`: after this many connections within one
 * second it stops listening (after `lateMs`), and comes back after `backAfterMs` when a watchdog is declared.
 */
async function service(o: { fallAt?: number; lateMs?: number; backAfterMs?: number; silent?: boolean; degradeTo?: string } = {}): Promise<Fragile> {
  let recent: number[] = [];
  let accepted = 0;
  let fallen = false;
  let server: net.Server;
  let port = 0;
  const sockets = new Set<net.Socket>();
  const listen = (): Promise<void> =>
    new Promise((resolve) => {
      server = net.createServer((sock) => {
        accepted++;
        sockets.add(sock);
        sock.on('close', () => sockets.delete(sock));
        sock.on('error', () => undefined);
        if (o.silent) return void sock.destroy();
        // Degrading: after the burst it still answers, with an error (a web server that lost its back end).
        sock.once('data', () => sock.end(`${fallen && o.degradeTo ? o.degradeTo : 'HTTP/1.0 200 OK'}\r\ncontent-length: 2\r\n\r\nok`));
        const now = Date.now();
        recent = [...recent.filter((t) => now - t < 1000), now];
        if (o.fallAt !== undefined && recent.length > o.fallAt && !fallen) {
          fallen = true;
          if (o.degradeTo) return;
          setTimeout(() => {
            server.close();
            for (const s of sockets) s.destroy();
            if (o.backAfterMs !== undefined)
              setTimeout(() => {
                fallen = false;
                recent = [];
                void listen();
              }, o.backAfterMs);
          }, o.lateMs ?? 0);
        }
      });
      server.listen(port, HOST, () => {
        port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  await listen();
  return {
    port,
    get accepted() {
      return accepted;
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const device = (
  port: number,
  resilience: DeviceFileInput['resilience'] | undefined,
  protocol: 'http' | 'other' = 'http',
  connections = 8,
): DeviceFileInput => ({
  device: { name: 'load unit' },
  target: { host: HOST },
  services: [{ port, protocol }],
  ...(resilience ? { resilience } : {}),
  limits: { connections, connectTimeoutMs: 1000, probeTimeoutSeconds: 60, deadlineSeconds: 120 },
});

async function judgeLoad(input: DeviceFileInput) {
  const out = await runWith({
    device: deviceFrom(input),
    profile: profileOf([{ id: 'RLM-1', checks: ['resilience.network-load'] }]),
    probes: [PROBES.get('network-load')!],
    checks: [CHECKS.get('resilience.network-load')!],
  });
  return { check: out.report.checks[0], result: out.results.get('network-load')! };
}

const burst = { enabled: true, rate: 40, seconds: 2, recoverySeconds: 6, stableSeconds: 3 };

describe('resilience.network-load', () => {
  const servers: Fragile[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  const up = async (o: Parameters<typeof service>[0] = {}) => {
    const s = await service(o);
    servers.push(s);
    return s;
  };

  it('pass: the service takes the burst and keeps answering; the burst stays within rate × seconds', async () => {
    const s = await up();
    const { check, result } = await judgeLoad(device(s.port, burst));
    expect(check.verdict).toBe('pass');
    // the baseline, 80 burst connections, the recovery polls and the one after the settle wait: never more
    expect(s.accepted).toBeLessThanOrEqual(1 + 80 + 12 + 1);
    expect(check.rationale).toMatch(/still answering 3 s after the last burst/);
    const fact = result.observations[0].data as { attempted: number; deliveredRate: number };
    expect(fact.attempted).toBe(80);
  }, 60_000);

  it('fail: a service that falls over under the burst and stays down', async () => {
    const s = await up({ fallAt: 10 });
    const { check } = await judgeLoad(device(s.port, burst));
    expect(check.verdict).toBe('fail');
    expect(check.rationale).toMatch(new RegExp(`port ${s.port}`));
  }, 60_000);

  it('fail: a service that falls over a few seconds after the burst (a late crash is not a recovery)', async () => {
    const s = await up({ fallAt: 10, lateMs: 2500 });
    const { check } = await judgeLoad(device(s.port, burst));
    expect(check.verdict).toBe('fail');
  }, 60_000);

  it('fail: a service that dies after the stability window is caught by the last look once the burst has settled', async () => {
    // the burst starts its fall in its first second; it lets go 5.5 s later: after recovery (3 s of answers), before the last look
    const s = await up({ fallAt: 10, lateMs: 5500 });
    const { check } = await judgeLoad(device(s.port, { ...burst, stableSeconds: 3 }));
    expect(check).toMatchObject({ verdict: 'fail', rationale: expect.stringContaining('stopped answering after the burst had settled') });
  }, 60_000);

  it('fail: a web server that answers 503 after the burst has not recovered (it answers, not as before)', async () => {
    const s = await up({ fallAt: 10, degradeTo: 'HTTP/1.0 503 Service Unavailable' });
    const { check } = await judgeLoad(device(s.port, burst));
    expect(check.verdict).toBe('fail');
  }, 60_000);

  it('inconclusive: a protocol starbench cannot converse in shows only a TCP accept, which a hung service gives too', async () => {
    const s = await up();
    const { check } = await judgeLoad(device(s.port, burst, 'other'));
    expect(check).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringContaining('only showed a TCP accept') });
  }, 60_000);

  it('inconclusive: a connection limit that leaves no room for the declared rate delivers less, and says so', async () => {
    const s = await up();
    const { check } = await judgeLoad(device(s.port, { ...burst, rate: 100 }, 'http', 1));
    expect(check).toMatchObject({ verdict: 'inconclusive', rationale: expect.stringContaining('the connection limit had no room') });
  }, 60_000);

  it('pass: a watchdog brings the service back within the recovery time', async () => {
    const s = await up({ fallAt: 10, backAfterMs: 1500 });
    const { check } = await judgeLoad(device(s.port, { ...burst, recoverySeconds: 10 }));
    expect(check.verdict).toBe('pass');
  }, 60_000);

  it('inconclusive: the service never answered before the burst (no control), nothing is loaded', async () => {
    const s = await up({ silent: true });
    const { check } = await judgeLoad(device(s.port, burst));
    expect(check.verdict).toBe('inconclusive');
    expect(check.rationale).toMatch(/did not answer before the burst/);
    expect(s.accepted).toBe(1);
  }, 60_000);

  it('not-tested: opt-in, nothing is sent when the device file does not enable it', async () => {
    const s = await up();
    const { check } = await judgeLoad(device(s.port, undefined));
    expect(check.verdict).toBe('not-tested');
    expect(s.accepted).toBe(0);
  }, 30_000);

  it('the device file bounds the burst: a rate above 200/s or longer than 30 s is refused', () => {
    expect(() => deviceFrom(device(80, { ...burst, rate: 500 }))).toThrow(/resilience\.rate/);
    expect(() => deviceFrom(device(80, { ...burst, seconds: 300 }))).toThrow(/resilience\.seconds/);
    expect(() => deviceFrom(device(80, { ...burst, ports: [81] }))).toThrow(/port 81 is not a declared TCP service/);
  });
});
