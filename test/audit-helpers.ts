import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { DeviceFileInput } from '../harness/device-file/schema';
import { CHECKS } from '../profiles/checks';
import { PROBES } from '../probes';
import { deviceFrom } from './helpers/device';
import { profileOf, runWith } from './helpers/run';
import { listenOn } from './helpers/servers';

export async function assess(input: DeviceFileInput, checks: string[], dir?: string) {
  const d = dir ?? mkdtempSync(path.join(tmpdir(), 'sb-audit-'));
  return runWith({
    device: deviceFrom(input, path.join(d, 'device.yaml')),
    profile: profileOf([{ id: 'R', checks }]),
    probes: [...PROBES.values()],
    checks: [...CHECKS.values()],
  });
}
export const verdicts = (r: { checks: Array<{ id: string; verdict: string }> }) => Object.fromEntries(r.checks.map((c) => [c.id, c.verdict]));

/** An HTTP camera with the lab's Basic login (admin:lab-pass-8c1e) on `loginPath`, plus whatever else the scenario declares. */
export const labWebDevice = (port: number, loginPath = '/admin', extra: Partial<DeviceFileInput> = {}): DeviceFileInput => ({
  device: { name: 'cam' },
  target: { host: '127.0.0.1' },
  scan: { tcp: String(port) },
  services: [{ port, protocol: 'http' }],
  credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
  auth: [{ port, protocol: 'http', path: loginPath, scheme: 'basic', credential: 'admin' }],
  ...extra,
});

const LAB_BASIC = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

/** What a scenario device answers on `url` (after the reset or not): [Content-Type, body], or undefined for the default. */
export type ResetAnswer = (url: string, wasReset: boolean) => [string, string] | undefined;

/**
 * A camera behind the lab's Basic login with a read-back on /config and a factory reset on POST /reset: what it
 * answers is `answer`'s (by default /admin is a page and anything else 404). privacy.data-deletion's verdict on it,
 * with `canary` enrolled as the owner's e-mail.
 */
export async function resetScenario(canary: string, answer: ResetAnswer) {
  let wasReset = false;
  const web = await listenOn(
    http.createServer((req, res) => {
      if (req.headers.authorization !== LAB_BASIC) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
      if (req.url === '/reset' && req.method === 'POST') {
        wasReset = true;
        return void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"reset":true}');
      }
      const a = answer(req.url ?? '/', wasReset);
      if (a) return void res.writeHead(200, { 'Content-Type': a[0] }).end(a[1]);
      if (req.url === '/admin') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end('<h1>admin</h1>');
      res.writeHead(404).end();
    }),
  );
  try {
    const { report } = await assess(
      labWebDevice(web.port, '/admin', {
        reset: { http: { url: `http://127.0.0.1:${web.port}/reset`, method: 'POST', credential: 'admin' } },
        update: { settleSeconds: 0 },
        personalData: {
          declared: ['email'],
          canaries: { email: canary },
          readBack: [{ http: { url: `http://127.0.0.1:${web.port}/config`, credential: 'admin' } }],
        },
      }),
      ['privacy.data-deletion'],
    );
    return report.checks.find((c) => c.id === 'privacy.data-deletion')!;
  } finally {
    await web.close();
  }
}

/** The common case: /config answers `before` until the reset, then `after` (both 200, same Content-Type). */
export const deletionVerdict = (canary: string, contentType: string, before: string, after: string) =>
  resetScenario(canary, (url, wasReset) => (url === '/config' ? [contentType, wasReset ? after : before] : undefined));
