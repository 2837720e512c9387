/**
 * A fourth audit. secretsIn: "a form that fills in a secret field's value is configuration on any page" — only when the field
 * has a name= attribute. A root page (no login) whose settings form is driven by ids (<input id="wifi_psk"
 * value="…">, common in JS front-ends) or holds the key in a <textarea name="private_key"> hands the secret out
 * and passes.
 */
import http from 'node:http';
import { assess, labWebDevice, verdicts } from './audit-helpers';
import { listenOn } from './helpers/servers';

const LAB = 'Basic ' + Buffer.from('admin:lab-pass-8c1e').toString('base64');

async function rootPage(html: string) {
  const cam = await listenOn(
    http.createServer((req, res) => {
      if (req.url === '/') return void res.writeHead(200, { 'Content-Type': 'text/html' }).end(html);
      if (req.url === '/admin' && req.headers.authorization === LAB) return void res.writeHead(200).end('ok');
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="cam"' }).end();
    }),
  );
  try {
    const { report } = await assess(labWebDevice(cam.port, '/admin'), ['auth.unauthenticated-access']);
    return { v: verdicts(report)['auth.unauthenticated-access'], why: report.checks[0].rationale };
  } finally {
    await cam.close();
  }
}

it('an id-only password field with its value on / is not a pass', async () => {
  const r = await rootPage('<html><body><form><label>Wi-Fi key</label><input type="password" id="wifi_psk" value="S3cretWifiKey"></form></body></html>');
  expect(r.v).not.toBe('pass');
}, 60_000);

it('a private key in a textarea on / is not a pass', async () => {
  const r = await rootPage(
    '<html><body><form><textarea name="tls_private_key">-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----</textarea></form></body></html>',
  );
  expect(r.v).not.toBe('pass');
}, 60_000);
