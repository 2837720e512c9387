/**
 * Audit 17: unauthenticated access and secrets with values. secretsIn() is
 * called only for HTTP 200 (probes/unauthenticated.ts `if (res.status !== 200) return;`),
 * its key list needs a word boundary before the key (so `wifi_password`, `wpa_psk`,
 * `adminPassword` are not secrets), and the sweep reads 64 KiB of a body and
 * ignores `truncated`, so a config dump with its secrets past 64 KiB passes.
 */
import http from 'node:http';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn } from './helpers/servers';

const LAB = 'Basic ' + Buffer.from('admin:lab-pass-5d').toString('base64');
const file = (port: number): DeviceFileInput => ({
  device: { name: 'config cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  credentials: { admin: { username: 'admin', password: 'lab-pass-5d' } },
  auth: [{ port, protocol: 'http', path: '/admin', scheme: 'basic', credential: 'admin' }],
});

async function verdictFor(where: string, status: number, type: string, body: Buffer) {
  const web = await listenOn(
    http.createServer((req, res) => {
      if (req.url === where) return void res.writeHead(status, { 'Content-Type': type }).end(body);
      if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }),
  );
  try {
    const { report } = await runWith({
      device: deviceFrom(file(web.port)),
      profile: profileOf([{ id: 'R', checks: ['auth.unauthenticated-access'] }]),
      probes: [...PROBES.values()],
      checks: [...CHECKS.values()],
    });
    return report.checks[0];
  } finally {
    await web.close();
  }
}

const JSON_SECRET = Buffer.from('{"wifi":{"ssid":"home","psk":"S3cretWifiKey"}}');

describe('audit17: secrets in answers without credentials', () => {
  it.each([
    ['HTTP 203 (Non-Authoritative Information)', 203],
    ['HTTP 206 (Partial Content)', 206],
  ])(
    'a JSON config with the Wi-Fi key served with %s fails (observed: pass)',
    async (_n, status) => {
      const c = await verdictFor('/api/config', status, 'application/json', JSON_SECRET);
      expect(c.verdict).toBe('fail');
    },
    90_000,
  );

  it.each([
    ['wifi_password', '{"net":{"wifi_password":"S3cretWifiKey"}}'],
    ['wpa_psk (INI)', 'ssid=home\nwpa_psk=CorrectHorse9\n'],
    ['adminPassword', '{"adminPassword":"Hunter2isMine"}'],
  ])(
    'a 200 config with %s and its value fails (observed: pass)',
    async (_n, body) => {
      const c = await verdictFor('/api/config', 200, 'application/json', Buffer.from(body));
      expect(c.verdict).toBe('fail');
    },
    90_000,
  );

  it('a 200 config dump whose secrets come after the 64 KiB the sweep reads is not a pass (observed: pass)', async () => {
    const body = Buffer.concat([Buffer.alloc(70 * 1024, 0x20), Buffer.from('\nwpa_passphrase=CorrectHorse9\n')]);
    const c = await verdictFor('/config.bin', 200, 'application/octet-stream', body);
    expect(c.verdict).not.toBe('pass');
  }, 90_000);
});
