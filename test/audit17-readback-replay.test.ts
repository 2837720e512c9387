/**
 * Audit 17: a lab read-back replayed without credentials. A device that
 * answers the credential-less request 401 but still renders the page (the
 * owner's data in the body of the 401) is counted "refused: the channel is
 * protected" — the canary in the body is thrown away (categories: [] when
 * !ok), and the unauthenticated sweep ignores every non-200 body as well.
 */
import https from 'node:https';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { selfSignedCert } from '../probes/util/cert';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn } from './helpers/servers';

const CANARY = 'hanako.canary.audit17@example.jp';
const LAB = 'Basic ' + Buffer.from('admin:lab-pass-5d').toString('base64');
const CERT = selfSignedCert({ commonName: 'cam.local', bits: 2048 });

async function leakyDevice() {
  const server = https.createServer({ key: CERT.key, cert: CERT.cert }, (req, res) => {
    if (req.url !== '/config' && req.url !== '/admin') return void res.writeHead(404).end();
    const body = req.url === '/config' ? JSON.stringify({ owner: { email: CANARY } }) : 'ok';
    // The page is rendered whatever the credential; only the status says "login".
    if (req.headers.authorization !== LAB)
      return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"', 'Content-Type': 'application/json' }).end(body);
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
  });
  return listenOn(server);
}
const file = (port: number): DeviceFileInput => ({
  device: { name: 'leaky cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'https' }],
  credentials: { admin: { username: 'admin', password: 'lab-pass-5d' } },
  auth: [{ port, protocol: 'https', path: '/admin', scheme: 'basic', credential: 'admin' }],
  personalData: { declared: ['email'], canaries: { email: CANARY }, readBack: [{ http: { url: `https://127.0.0.1:${port}/config`, credential: 'admin' } }] },
});

describe('audit17: read-back replay', () => {
  it('a 401 whose body carries the canary is an exposure, not "protected"', async () => {
    const web = await leakyDevice();
    try {
      const { report } = await runWith({
        device: deviceFrom(file(web.port)),
        profile: profileOf([{ id: 'R', checks: ['privacy.personal-data-exposure'] }]),
        probes: [...PROBES.values()],
        checks: [...CHECKS.values()],
      });
      const replay = report.observations['personal-data'].observations.find((o) => /replayed without credentials/.test(o.summary));
      expect(replay?.data).toMatchObject({ authenticated: false, categories: ['email'] });
      // Right: fail (the owner's e-mail is served to anyone; the status code is a label). Wrong (observed): pass.
      expect(report.checks[0].verdict).not.toBe('pass');
      expect(report.checks[0].verdict).toBe('fail');
    } finally {
      await web.close();
    }
  }, 90_000);
});
