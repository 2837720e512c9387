/**
 * What users of real devices asked of the device file: `operator: "text"`,
 * HTTP actions with Digest, TLS client certificates as credentials, and
 * `TODO` placeholders (from `starbench init`) that `run` refuses by line.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { createBroker } from 'aedes';
import tls from 'node:tls';
import { loadDeviceFile, parseDeviceFile } from '../harness/device-file/load';
import { StarbenchError } from '../harness/errors';
import { probeContext } from '../cli/standalone';
import { clientCertificate, runAction } from '../probes/util/actions';
import { mqttLogin } from '../probes/credentials/mqtt';
import { selfSignedCert } from '../fixtures/util/cert';
import { deviceFrom } from './helpers/device';

function refusal(text: string, file = '/lab/dev.yaml'): string {
  try {
    parseDeviceFile(text, file);
  } catch (err) {
    if (err instanceof StarbenchError) return err.message;
    throw err;
  }
  throw new Error('expected the device file to be refused');
}

const BASE = 'device: { name: cam }\ntarget: { host: 127.0.0.1 }\n';

describe('operator shorthand', () => {
  it('operator: "text" is { instructions: text } wherever an action goes', () => {
    const d = parseDeviceFile(
      `${BASE}update:\n  version: { operator: "Read the version on the label" }\n  install: { operator: { instructions: "Upload it in the app" } }\nreset: { operator: "Hold the reset button for 10 s" }\n`,
    );
    expect(d.update?.version?.operator).toEqual({ instructions: 'Read the version on the label' });
    expect(d.update?.install?.operator).toEqual({ instructions: 'Upload it in the app' });
    expect(d.reset?.operator).toEqual({ instructions: 'Hold the reset button for 10 s' });
  });

  it('an empty operator string is still refused, with its line', () => {
    expect(refusal(`${BASE}reset: { operator: "  " }\n`)).toMatch(/dev\.yaml:3: reset\.operator/);
  });
});

describe('TODO placeholders', () => {
  const draft = `${BASE}credentials:\n  admin: { username: admin, password: "TODO: the lab account's password" }\ndocumentation:\n  vulnerabilityDisclosure: "TODO: URL of the disclosure policy"\n`;

  it('a run refuses every placeholder, naming file, line, field and what to fill in', () => {
    const m = refusal(draft);
    expect(m).toContain("/lab/dev.yaml:4: credentials.admin.password is still a placeholder: TODO: the lab account's password");
    expect(m).toContain('/lab/dev.yaml:6: documentation.vulnerabilityDisclosure is still a placeholder: TODO: URL of the disclosure policy');
    expect(m).toMatch(/fill in every TODO value/);
  });

  it('a draft validates with allowTodo (what init checks), and a TODO credential name is not a dangling reference', () => {
    const d = parseDeviceFile(
      `${draft}auth:\n  - { port: 80, protocol: http, scheme: basic, credential: "TODO: which account logs in here" }\n`,
      '/lab/dev.yaml',
      undefined,
      { allowTodo: true },
    );
    expect(d.credentials.admin.password).toMatch(/^TODO/);
    expect(refusal(`${draft}auth:\n  - { port: 80, protocol: http, scheme: basic, credential: "TODO: which account" }\n`)).toMatch(
      /auth\[0\]\.credential is still a placeholder/,
    );
  });

  it('a placeholder reached through an alias, or in a key, is still refused', () => {
    const aliased = `${BASE}credentials:\n  &p "TODO: the lab account's password":\n    username: admin\n    password: *p\n`;
    expect(refusal(aliased)).toMatch(/is still a placeholder: TODO: the lab account's password/);
    expect(refusal(`${BASE}credentials:\n  "TODO: name it": { username: admin, password: x }\n`)).toMatch(/\(key\) is still a placeholder/);
  });

  it('text that merely mentions TODO later is a value, not a placeholder', () => {
    expect(parseDeviceFile(`${BASE}documentation: { updateProcedure: "see the TODO list in the manual" }\n`).documentation?.updateProcedure).toContain('TODO');
  });
});

describe('TLS client certificates as credentials', () => {
  it('certificate and key resolve beside the device file, need each other, and stay inside its folder', () => {
    const d = parseDeviceFile(`${BASE}credentials:\n  broker: { certificate: ./certs/lab.pem, key: ./certs/lab.key }\n`, '/lab/dev.yaml');
    expect(d.credentials.broker).toMatchObject({ certificate: '/lab/certs/lab.pem', key: '/lab/certs/lab.key', username: '' });
    expect(refusal(`${BASE}credentials:\n  broker: { certificate: ./lab.pem }\n`)).toMatch(/needs both certificate and key/);
    expect(refusal(`${BASE}credentials:\n  broker: { certificate: ../lab.pem, key: ./lab.key }\n`)).toMatch(
      /credentials\.broker\.certificate \(\.\.\/lab\.pem\) leaves the device file's folder/,
    );
    expect(refusal(`${BASE}credentials:\n  admin: { password: x }\n`)).toMatch(/needs a username/);
  });
});

/** A server that wants RFC 7616 Digest (MD5, qop=auth) on every request, as many camera admin pages do. */
async function digestServer(user: string, pass: string): Promise<{ port: number; seen: string[]; close(): Promise<void> }> {
  const realm = 'cam';
  const nonce = randomBytes(8).toString('hex');
  const seen: string[] = [];
  const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = String(req.headers.authorization ?? '');
      const f = Object.fromEntries([...h.matchAll(/(\w+)="?([^",]*)"?/g)].map((m) => [m[1], m[2]]));
      const expected = md5(`${md5(`${user}:${realm}:${pass}`)}:${nonce}:${f.nc}:${f.cnonce}:${f.qop}:${md5(`${req.method}:${f.uri}`)}`);
      if (!h.startsWith('Digest ') || f.response !== expected || f.uri !== req.url) {
        seen.push(`${req.method} 401`);
        res.writeHead(401, { 'WWW-Authenticate': `Digest realm="${realm}", qop="auth", nonce="${nonce}", algorithm=MD5` }).end();
        return;
      }
      seen.push(`${req.method} 200 ${Buffer.concat(chunks).length}`);
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ firmware: '4.2.0' }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, seen, close: () => new Promise((r) => server.close(() => r())) };
}

describe('HTTP actions with Digest', () => {
  it('reads a version and posts an image behind Digest (declared by auth:, or by the action)', async () => {
    const srv = await digestServer('admin', 'lab-digest-pass');
    try {
      const device = deviceFrom({
        device: { name: 'digest cam' },
        target: { host: '127.0.0.1' },
        services: [{ port: srv.port, protocol: 'http' }],
        credentials: { admin: { username: 'admin', password: 'lab-digest-pass' } },
        auth: [{ port: srv.port, protocol: 'http', path: '/', scheme: 'digest', credential: 'admin' }],
      });
      const ctx = await probeContext(device);
      const read = await runAction(
        ctx,
        'update.version',
        { http: { url: `http://127.0.0.1:${srv.port}/cgi-bin/version`, method: 'GET', credential: 'admin', jsonPath: 'firmware' } },
        { read: true },
      );
      expect(read.record).toMatchObject({ ok: true, status: 200, value: '4.2.0' });
      expect(read.record.request).toMatch(/as credential "admin" \(Digest\)/);
      const install = await runAction(
        ctx,
        'update.install',
        { http: { url: `http://127.0.0.1:${srv.port}/cgi-bin/upgrade`, method: 'POST', credential: 'admin', auth: 'digest' } },
        { body: Buffer.alloc(3000), bodyLabel: 'genuine image' },
      );
      expect(install.record).toMatchObject({ ok: true, status: 200 });
      // Before each step the lab login on the declared Digest login (GET /, challenge and answer) shows the credential
      // works; the step's own challenge costs one request with no body; the image went once, with the answer to it.
      expect(srv.seen).toEqual(['GET 401', 'GET 200 0', 'GET 401', 'GET 200 0', 'GET 401', 'GET 200 0', 'POST 401', 'POST 200 3000']);
    } finally {
      await srv.close();
    }
  });

  it('a wrong Digest password is a refused action (401), not a success', async () => {
    const srv = await digestServer('admin', 'right');
    try {
      const device = deviceFrom({ device: { name: 'd' }, target: { host: '127.0.0.1' }, credentials: { admin: { username: 'admin', password: 'wrong' } } });
      const r = await runAction(await probeContext(device), 'reset', {
        http: { url: `http://127.0.0.1:${srv.port}/reset`, method: 'POST', credential: 'admin', auth: 'digest' },
      });
      expect(r.record).toMatchObject({ ok: false, status: 401 });
    } finally {
      await srv.close();
    }
  });
});

describe('client-certificate credentials in use', () => {
  const ca = selfSignedCert({ commonName: 'lab-client' });
  const server = selfSignedCert({ commonName: 'device' });

  function certDevice(port: number, extra: Record<string, unknown> = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), 'sb-cc-'));
    writeFileSync(path.join(dir, 'lab.pem'), ca.cert);
    writeFileSync(path.join(dir, 'lab.key'), ca.key);
    const file = path.join(dir, 'device.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        device: { name: 'cc' },
        target: { host: '127.0.0.1' },
        services: [{ port, protocol: 'https' }],
        credentials: { lab: { certificate: './lab.pem', key: './lab.key' } },
        ...extra,
      }),
    );
    return loadDeviceFile(file);
  }

  it('an HTTPS read-back that requires a client certificate is read with it, and refused without', async () => {
    const srv = https.createServer({ cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: true, ca: ca.cert }, (req, res) => {
      res.end(`owner=hanako (${(req.socket as TLSSocket).getPeerCertificate().subject?.CN})`);
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const ctx = await probeContext(certDevice(port));
      const withCert = await runAction(ctx, 'personalData.readBack[0]', {
        http: { url: `https://127.0.0.1:${port}/config`, method: 'GET', credential: 'lab' },
      });
      expect(withCert.record).toMatchObject({ ok: true, status: 200 });
      expect(withCert.text).toBe('owner=hanako (lab-client)');
      expect(withCert.record.request).toMatch(/client certificate/);
      // the control: the same read without the certificate never gets an answer
      const without = await runAction(ctx, 'personalData.readBack[0]', { http: { url: `https://127.0.0.1:${port}/config`, method: 'GET' } }, { once: true });
      expect(without.record.ok).toBe(false);
      expect(without.record.error).toBeDefined();
      expect(without.text).toBe('');
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
    }
  });

  it('an MQTT broker behind client certificates accepts the lab login with the certificate, and not without', async () => {
    const aedes = createBroker();
    const srv = tls.createServer({ cert: server.cert, key: server.key, requestCert: true, rejectUnauthorized: true, ca: ca.cert }, (s) => aedes.handle(s));
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as net.AddressInfo).port;
    try {
      const device = certDevice(port, {
        services: [{ port, protocol: 'mqtts' }],
        auth: [{ port, protocol: 'mqtts', scheme: 'client-certificate', credential: 'lab' }],
      });
      const ctx = await probeContext(device);
      const cred = device.credentials.lab;
      const target = { adapter: 'mqtt', protocol: 'mqtts', port, tls: true, source: 'test' };
      expect(await mqttLogin.attempt(ctx, { ...target, clientCert: clientCertificate(cred) }, 'any', 'any')).toMatchObject({ kind: 'accepted' });
      expect((await mqttLogin.attempt(ctx, target, 'any', 'any')).kind).toBe('error');
    } finally {
      await new Promise<void>((r) => srv.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    }
  });
});
