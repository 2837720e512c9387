/**
 * An in-process device with a firmware update, a config page holding the
 * owner's data, and a factory reset — each behaviour switchable, to test the
 * update and reset probes against what real devices do wrong.
 *
 * Image format: "IMG1 <version>\n" + 32-byte HMAC-SHA256(key, version + payload) + payload.
 */
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import { listenOn } from './servers';

const KEY = randomBytes(32);
export const SIG_LENGTH = 32;

export function makeImage(version: string, payload = randomBytes(2048)): Buffer {
  const sig = createHmac('sha256', KEY).update(version).update(payload).digest();
  return Buffer.concat([Buffer.from(`IMG1 ${version}\n`), sig, payload]);
}

/** The signature's place in an image made by makeImage. */
export function signatureOf(image: Buffer): { offset: number; length: number } {
  return { offset: image.indexOf(0x0a) + 1, length: SIG_LENGTH };
}

function parseImage(img: Buffer): { version: string; valid: boolean } | null {
  const nl = img.indexOf(0x0a);
  const head = img.subarray(0, nl).toString('latin1');
  const m = /^IMG1 (\S+)$/.exec(head);
  if (!m || img.length < nl + 1 + SIG_LENGTH) return null;
  const sig = img.subarray(nl + 1, nl + 1 + SIG_LENGTH);
  const payload = img.subarray(nl + 1 + SIG_LENGTH);
  const want = createHmac('sha256', KEY).update(m[1]).update(payload).digest();
  return { version: m[1], valid: want.equals(sig) };
}

const newer = (a: string, b: string): boolean => a.localeCompare(b, undefined, { numeric: true }) > 0;

export interface FirmwareDeviceOptions {
  version: string;
  /** verify: check the signature; anything: install whatever parses; ignore: answer 200 and install nothing. */
  install: 'verify' | 'anything' | 'ignore';
  antiRollback?: boolean;
  /** After an install the device is gone this long (closed port), then back. */
  rebootMs?: number;
  /** After the first install the device never answers again. */
  neverReturns?: boolean;
  /** Data the config page shows; split across two writes in the middle of each value. */
  userdata?: Record<string, string>;
  wipeOnReset?: boolean;
  /** The reset also puts the admin password back to a factory default. */
  resetRestoresDefaultPassword?: boolean;
  user?: string;
  pass?: string;
  /** Answer the upload at once, and put the new version in place this much later. */
  installDelayMs?: number;
  /** The status a refused image is answered with (default 400); many devices answer 200 with an error in the body. */
  refusalStatus?: number;
}

export interface FirmwareDevice {
  port: number;
  state: { version: string; userdata: Record<string, string> | null; installs: number; resets: number };
  close(): Promise<void>;
}

export async function firmwareDevice(opts: FirmwareDeviceOptions): Promise<FirmwareDevice> {
  const user = opts.user ?? 'admin';
  let pass = opts.pass ?? 'lab-secret-pass';
  const state = { version: opts.version, userdata: opts.userdata ? { ...opts.userdata } : null, installs: 0, resets: 0 };
  let down = false;
  const authed = (req: http.IncomingMessage): boolean => req.headers.authorization === `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const json = (status: number, body: unknown): void => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.url === '/version') return json(200, { firmware: state.version });
      if (!authed(req)) return json(401, { error: 'login' });
      if (req.url === '/upgrade' && req.method === 'POST') {
        state.installs += 1;
        const img = parseImage(Buffer.concat(chunks));
        let installed = false;
        if (opts.install === 'ignore') json(200, { ok: true });
        else if (!img) json(400, { error: 'not an image' });
        else if (opts.install === 'verify' && !img.valid) json(opts.refusalStatus ?? 400, { ok: false, error: 'bad signature' });
        else if (opts.antiRollback && !newer(img.version, state.version)) json(409, { error: 'not newer' });
        else {
          if (opts.installDelayMs) setTimeout(() => (state.version = img.version), opts.installDelayMs);
          else state.version = img.version;
          installed = true;
          json(200, { ok: true });
        }
        if (installed && (opts.rebootMs || opts.neverReturns)) void reboot();
        return;
      }
      if (req.url === '/config') {
        // The value split across two TCP writes: a search per packet would miss it.
        const body = JSON.stringify({ userdata: state.userdata });
        const cut = Math.floor(body.length / 2);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write(body.slice(0, cut));
        setTimeout(() => res.end(body.slice(cut)), 30);
        return;
      }
      if (req.url === '/reset' && req.method === 'POST') {
        state.resets += 1;
        // A wipe empties the owner's fields; the config page keeps its shape.
        if (opts.wipeOnReset && state.userdata) state.userdata = Object.fromEntries(Object.keys(state.userdata).map((k) => [k, '']));
        if (opts.resetRestoresDefaultPassword) pass = 'factory-default';
        return json(200, { reset: true });
      }
      json(404, { error: 'no such page' });
    });
  });
  let running = await listenOn(server);
  const port = running.port;
  const reboot = async (): Promise<void> => {
    if (down) return;
    down = true;
    await new Promise((r) => setTimeout(r, 50));
    // A reboot drops every connection, kept-alive ones included.
    const closed = running.close();
    server.closeAllConnections();
    await closed;
    if (opts.neverReturns) return;
    await new Promise((r) => setTimeout(r, opts.rebootMs));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    running = { port, close: () => new Promise<void>((r) => server.close(() => r())) };
    down = false;
  };
  server.on('connection', (s: net.Socket) => s.on('error', () => undefined));
  return {
    port,
    state,
    close: async () => {
      if (server.listening) await running.close();
    },
  };
}
