/**
 * privacy.data-deletion: "the data is gone" needs the same data page back,
 * empty. These read-backs come back after the reset as a different page (a
 * not-provisioned error in the API's envelope, a welcome page under the same
 * title, a wizard that names the field it asks for, an MQTT broker on which
 * nothing is published yet) — the data being absent shows nothing, so the
 * verdict must be inconclusive, not pass.
 */
import http from 'node:http';
import net from 'node:net';
import { createBroker } from 'aedes';
import { assess, deletionVerdict } from './audit-helpers';
import { listenOn } from './helpers/servers';

const CANARY = 'hanako.reset.canary@example.jp';

const deletion = (contentType: string, before: string, after: string) => deletionVerdict(CANARY, contentType, before, after);

describe('a different page after the reset, that the shape comparison takes for the same page emptied', () => {
  it('JSON API envelope {code,msg,data}: after the reset a "not provisioned" error in the same envelope, HTTP 200', async () => {
    const c = await deletion(
      'application/json',
      JSON.stringify({ code: 0, msg: 'ok', data: { owner: { name: 'Hanako', email: CANARY }, tz: 'JST' } }),
      JSON.stringify({ code: 40100, msg: 'device not provisioned: complete the setup in the app', data: null }),
    );
    expect(c.verdict).toBe('inconclusive');
  }, 60_000);

  it('HTML whose only structure is its <title>: after the reset a welcome page with the same title', async () => {
    const c = await deletion(
      'text/html',
      `<html><head><title>IP Camera</title></head><body><table><tr><td>Owner e-mail</td><td>${CANARY}</td></tr></table></body></html>`,
      `<html><head><title>IP Camera</title></head><body><h1>Welcome!</h1><p>This camera is not set up yet.</p><a href="/setup">Start setup</a></body></html>`,
    );
    expect(c.verdict).toBe('inconclusive');
  }, 60_000);

  it('a page with no structure: after the reset a wizard that merely mentions the label ("enter your Email")', async () => {
    const c = await deletion('text/html', `<p>Email: ${CANARY}</p>`, `<p>Welcome. Enter your Email to get started.</p>`);
    expect(c.verdict).toBe('inconclusive');
  }, 60_000);
});

describe('MQTT read-back: no shape at all', () => {
  it('a broker on which the canary was retained before the reset and on which nothing is published after it: not shown deleted', async () => {
    const broker = createBroker({
      authenticate: (_c, u, p, done) => done(null, u === 'admin' && p?.toString() === 'lab-pass-8c1e'),
    });
    const mq = await listenOn(net.createServer(broker.handle));
    await new Promise<void>((r) =>
      broker.publish({ cmd: 'publish', topic: 'cam/owner', payload: Buffer.from(JSON.stringify({ email: CANARY })), qos: 0, retain: true, dup: false }, () =>
        r(),
      ),
    );
    // The reset endpoint: the device's app stops publishing (the retained copy is cleared); the device keeps its store.
    const web = await listenOn(
      http.createServer((req, res) => {
        if (req.url === '/reset' && req.method === 'POST') {
          broker.publish({ cmd: 'publish', topic: 'cam/owner', payload: Buffer.alloc(0), qos: 0, retain: true, dup: false }, () => undefined);
          return void res.writeHead(200).end('ok');
        }
        res.writeHead(404).end();
      }),
    );
    try {
      const { report } = await assess(
        {
          device: { name: 'mqtt cam' },
          target: { host: '127.0.0.1' },
          scan: { tcp: `${mq.port},${web.port}`, udp: '9' },
          services: [
            { port: mq.port, protocol: 'mqtt' },
            { port: web.port, protocol: 'http' },
          ],
          credentials: { admin: { username: 'admin', password: 'lab-pass-8c1e' } },
          auth: [{ port: mq.port, protocol: 'mqtt', scheme: 'password', credential: 'admin' }],
          reset: { http: { url: `http://127.0.0.1:${web.port}/reset`, method: 'POST' } },
          update: { settleSeconds: 0 },
          personalData: { declared: ['email'], canaries: { email: CANARY } },
        },
        ['privacy.data-deletion'],
      );
      const c = report.checks.find((x) => x.id === 'privacy.data-deletion')!;
      // Before: one topic held the data. After: no topic at all — the same "page" did not come back.
      expect(c.verdict).toBe('inconclusive');
    } finally {
      await web.close();
      await mq.close();
      await new Promise<void>((r) => broker.close(() => r()));
    }
  }, 60_000);
});
