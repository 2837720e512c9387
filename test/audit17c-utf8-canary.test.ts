/**
 * A fourth audit. Canaries are searched in text decoded as UTF-8 on the lab's own read-backs (actions.ts) but as Latin-1 on
 * everything open to anyone (unauthenticated pages, MQTT, FTP, SNMP, banners, UDP answers). A canary with any
 * non-ASCII character (a Japanese name, "Zoë") is then found only behind the login: a status page that shows it
 * to anyone is never seen, and privacy.personal-data-exposure passes.
 */
import https from 'node:https';
import { selfSignedCert } from '../probes/util/cert';
import { assess } from './audit-helpers';
import { listenOn } from './helpers/servers';

const CERT = selfSignedCert({ commonName: '127.0.0.1', bits: 2048 });
const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');
async function run(OWNER: string) {
  const cam = await listenOn(
    https.createServer(CERT, (req, res) => {
      if (req.url === '/status')
        return void res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ up: true, owner: OWNER }));
      if (req.headers.authorization !== LAB) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
      if (req.url === '/config')
        return void res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify({ owner: { name: OWNER } }));
      res.writeHead(200).end('ok');
    }),
  );
  try {
    const { report } = await assess(
      {
        device: { name: 'cam' },
        target: { host: '127.0.0.1' },
        scan: { tcp: String(cam.port), udp: '9' },
        services: [{ port: cam.port, protocol: 'https' }],
        credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
        auth: [{ port: cam.port, protocol: 'https', path: '/admin', scheme: 'basic', credential: 'admin' }],
        personalData: {
          declared: ['name'],
          canaries: { name: OWNER },
          readBack: [{ http: { url: `https://127.0.0.1:${cam.port}/config`, credential: 'admin' } }],
        },
      },
      ['privacy.personal-data-exposure'],
    );
    const c = report.checks.find((x) => x.id === 'privacy.personal-data-exposure')!;
    return c.verdict;
  } finally {
    await cam.close();
  }
}

it('control: an ASCII owner name on the open /status page fails', async () => {
  expect(await run('Hanako-Yamada')).toBe('fail');
}, 90_000);

it('the owner name (non-ASCII) on an open /status page is exposure, not a pass', async () => {
  expect(await run('山田花子')).not.toBe('pass');
}, 90_000);
