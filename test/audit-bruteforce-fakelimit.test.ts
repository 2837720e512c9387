/**
 * A "rate limit" that only dresses refusals up: after 3 wrong passwords in a
 * row every further wrong password gets 429 + Retry-After: 1, but the right
 * password is accepted at once, at any time. An attacker just keeps going at
 * full speed — the 429 is a refusal by another name.
 */
import http from 'node:http';
import { listenOn } from './helpers/servers';
import { assess, labWebDevice } from './audit-helpers';

async function cosmeticLimit() {
  const stats = { wrong: 0, goodDuringLimit: 0, limited: 0 };
  let consecutive = 0;
  const good = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');
  const server = http.createServer((req, res) => {
    if (!req.url?.startsWith('/admin')) return void res.writeHead(200).end('home');
    if (req.headers.authorization === good) {
      if (consecutive >= 3) stats.goodDuringLimit += 1;
      consecutive = 0;
      return void res.writeHead(200).end('welcome');
    }
    if (req.headers.authorization) {
      stats.wrong += 1;
      consecutive += 1;
      if (consecutive > 3) {
        stats.limited += 1;
        return void res.writeHead(429, { 'Retry-After': '1' }).end('slow down');
      }
    }
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="t"' }).end('no');
  });
  return { ...(await listenOn(server)), stats };
}

it('429 to wrong passwords while the right one still gets in right away is not a rate limit (never pass)', async () => {
  const web = await cosmeticLimit();
  try {
    const { report } = await assess(labWebDevice(web.port), ['auth.brute-force']);
    const bf = report.observations['brute-force'].observations.find((o: { kind: string }) => o.kind === 'brute-force')?.data as Record<string, unknown>;
    // The lab login right after the "limited" answers got straight in.
    expect(bf?.labAfter).toBe('accepted');
    expect(report.checks[0].verdict).not.toBe('pass');
  } finally {
    await web.close();
  }
}, 180_000);
