/**
 * No evidence, no pass: every "nothing found" has a control. A read-back the
 * device file says needs the lab credential is replayed with none.
 */
import http from 'node:http';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn } from './helpers/servers';

const CANARY = 'hanako.canary.77@example.jp';
const LAB = 'Basic ' + Buffer.from('admin:lab-pass-5d').toString('base64');

/** /config holds the enrolled e-mail; `open`: served to anyone, else only with the lab credential. */
async function dataDevice(open: boolean) {
  const server = http.createServer((req, res) => {
    if (req.url !== '/config' && req.url !== '/admin') return void res.writeHead(404).end();
    if (!open && req.headers.authorization !== LAB) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(req.url === '/config' ? JSON.stringify({ owner: { email: CANARY } }) : 'ok');
  });
  return listenOn(server);
}
const file = (port: number): DeviceFileInput => ({
  device: { name: 'data cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  credentials: { admin: { username: 'admin', password: 'lab-pass-5d' } },
  auth: [{ port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin' }],
  personalData: { declared: ['email'], canaries: { email: CANARY }, readBack: [{ http: { url: `http://127.0.0.1:${port}/config`, credential: 'admin' } }] },
});
const run = (port: number) =>
  runWith({
    device: deviceFrom(file(port)),
    profile: profileOf([{ id: 'R', checks: ['privacy.personal-data-exposure'] }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });

describe('read-backs replayed without credentials', () => {
  it('a read-back that serves the canary to anyone is an exposure (fail), although the device file named a credential for it', async () => {
    const web = await dataDevice(true);
    try {
      const { report } = await run(web.port);
      expect(report.checks[0].verdict).toBe('fail');
      expect(report.checks[0].findings.some((f) => f.severity === 'high' && /replayed without credentials/.test(f.message))).toBe(true);
    } finally {
      await web.close();
    }
  }, 60_000);

  it('one that refuses without credentials is shown protected: no exposure finding from it', async () => {
    const web = await dataDevice(false);
    try {
      const { report } = await run(web.port);
      const replay = report.observations['personal-data'].observations.find((o) => /replayed without credentials/.test(o.summary));
      expect(replay?.data).toMatchObject({
        authenticated: false,
        ok: true,
        categories: [],
        detail: expect.stringMatching(/refused without credentials \(HTTP 401\)/),
      });
      // Still a failure, for the right reason only: the lab read-back itself crosses the network in clear text (http://).
      const high = report.checks[0].findings.filter((f) => f.severity === 'high').map((f) => f.message);
      expect(high.some((m) => /replayed without credentials/.test(m))).toBe(false);
      expect(report.checks[0].findings.map((f) => f.message).join(' ')).toMatch(/clear text/i);
    } finally {
      await web.close();
    }
  }, 60_000);
});

describe('unauthenticated access looks at every answer, not only HTML forms', () => {
  it.each([
    ['a JSON config endpoint with the Wi-Fi key', '/api/config', 'application/json', '{"wifi":{"ssid":"home","psk":"S3cretWifiKey"}}'],
    ['a binary config dump', '/config.bin', 'application/octet-stream', '\u0000CFG1\u0000wpa_passphrase=CorrectHorse9\n\u0000\u0000'],
  ])(
    '%s, open to anyone, fails',
    async (_name, where, type, body) => {
      const web = await listenOn(
        http.createServer((req, res) => {
          if (req.url === where) return void res.writeHead(200, { 'Content-Type': type }).end(Buffer.from(body, 'latin1'));
          if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
          res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
        }),
      );
      try {
        const { personalData: _pd, ...input } = file(web.port);
        const { report } = await runWith({
          device: deviceFrom(input),
          profile: profileOf([{ id: 'R', checks: ['auth.unauthenticated-access'] }]),
          probes: [...PROBES.values()],
          checks: [...CHECKS.values()],
        });
        expect(report.checks[0].verdict).toBe('fail');
        expect(report.checks[0].findings.map((f) => f.message).join(' ')).toMatch(/configuration with secrets/);
      } finally {
        await web.close();
      }
    },
    60_000,
  );
});
