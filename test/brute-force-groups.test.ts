/**
 * Brute force on two web logins that delay each refusal. Declared in
 * different lockout groups (two daemons, two counters), the two series run
 * side by side, each within its share of the connections; by default (one
 * counter for the whole device) strictly one after another. The verdict is
 * the same either way.
 */
import http from 'node:http';
import { listenOn } from './helpers/servers';
import { assess, verdicts } from './audit-helpers';
import type { DeviceFileInput } from '../harness/device-file/schema';

const GOOD = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

/** Wrong passwords in progress on every server of a scenario, and the most at once. */
const load = { live: 0, peak: 0 };

/** A Basic login that answers each wrong password after `delayMs`, recording when each wrong attempt ran. */
async function slowLogin(delayMs: number) {
  const wrong: Array<{ from: number; to: number }> = [];
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/admin')) return void res.writeHead(200).end('home');
    if (req.headers.authorization === GOOD) return void res.writeHead(200).end('welcome');
    if (!req.headers.authorization) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' }).end('no');
    const from = Date.now();
    load.live += 1;
    load.peak = Math.max(load.peak, load.live);
    setTimeout(() => {
      load.live -= 1;
      wrong.push({ from, to: Date.now() });
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' }).end('no');
    }, delayMs);
  });
  return { ...(await listenOn(server)), wrong };
}

function device(a: number, b: number, groups: [string, string] | undefined): DeviceFileInput {
  return {
    device: { name: 'cam' },
    target: { host: '127.0.0.1' },
    scan: { tcp: `${a},${b}` },
    services: [
      { port: a, protocol: 'http' },
      { port: b, protocol: 'http' },
    ],
    credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
    auth: [
      { port: a, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin', ...(groups ? { lockoutGroup: groups[0] } : {}) },
      { port: b, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin', ...(groups ? { lockoutGroup: groups[1] } : {}) },
    ],
    limits: { connections: 4 },
  };
}

/** The brute-force series' wrong attempts: from the first to the last, per server. */
const span = (w: Array<{ from: number; to: number }>, after: number) => {
  const x = w.filter((a) => a.from >= after);
  return { from: Math.min(...x.map((a) => a.from)), to: Math.max(...x.map((a) => a.to)), n: x.length };
};

async function bruteForce(groups: [string, string] | undefined) {
  load.peak = 0;
  const one = await slowLogin(120);
  const two = await slowLogin(120);
  try {
    const { report, results } = await assess(device(one.port, two.port, groups), ['auth.brute-force']);
    const bf = results.get('brute-force')!;
    const from = Date.parse(bf.startedAt!);
    return { verdict: verdicts(report)['auth.brute-force'], a: span(one.wrong, from), b: span(two.wrong, from), peak: load.peak, bf };
  } finally {
    await one.close();
    await two.close();
  }
}

it('independent lockout groups are measured side by side, within the connection limit together', async () => {
  const r = await bruteForce(['web-a', 'web-b']);
  expect(r.bf.status).toBe('completed');
  expect(r.a.n).toBeGreaterThanOrEqual(20);
  expect(r.b.n).toBeGreaterThanOrEqual(20);
  // The two series overlap in time.
  expect(Math.max(r.a.from, r.b.from)).toBeLessThan(Math.min(r.a.to, r.b.to));
  // Four connections for both series together.
  expect(r.peak).toBeLessThanOrEqual(4);
  expect(r.verdict).toBe('fail');
}, 120_000);

it('by default (one counter for the whole device) the series run one after another, with the same verdict', async () => {
  const r = await bruteForce(undefined);
  expect(r.a.n).toBeGreaterThanOrEqual(20);
  expect(r.b.n).toBeGreaterThanOrEqual(20);
  const [first, second] = r.a.from < r.b.from ? [r.a, r.b] : [r.b, r.a];
  expect(second.from).toBeGreaterThanOrEqual(first.to);
  expect(r.verdict).toBe('fail');
}, 120_000);
