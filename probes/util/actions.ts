/**
 * The one executor for the device file's actions (read the version, install
 * an image, factory reset, read back personal data): http, ssh (a command),
 * serial (send/expect) or operator (a person at the bench). Every action is
 * bounded in time, retried only when safe (a GET, on a network error), and
 * recorded as evidence (request, status, timing; the runner masks secrets).
 */
import { z } from 'zod';
import { readFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { Client } from 'ssh2';
import type { Action } from '../../harness/device-file/schema';
import { digestAuthorization, parseChallenge } from '../credentials/http-digest';
import { dottedValue } from '../../harness/dotted';
import type { ProbeContext } from '../../harness/types';
import { basicAuth, httpRequest, lockSignal } from './http';
import { ensureAccess, noteLock, waitForAccess } from '../credentials/session';
import { clientCertificate } from './client-cert';
import { sleepUnlessAborted } from './sleep';
import { closeSerialPort, openSerialPort } from './serial-port';
import { printable } from './banner';
import { WaitableText } from './waitable-text';

/** Text an action's answer may fill; enough for a config page, bounded against a hostile device. */
const MAX_TEXT = 256 * 1024;
const OUTPUT_KEPT = 2048;
const GET_ATTEMPTS = 3;

export type ActionVia = 'http' | 'ssh' | 'serial' | 'operator';

/** What an action did, for the journal and the report (a part of the update, reset and personal-data facts). */
export const actionRecordSchema = z.object({
  action: z.string(),
  via: z.enum(['http', 'ssh', 'serial', 'operator']),
  /** One line: method and URL, command, or what was sent. */
  request: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  attempts: z.number().int(),
  /** HTTP status or SSH exit code. */
  status: z.number().int().optional(),
  /** 2xx, exit 0, the expected text seen, or the operator confirmed. */
  ok: z.boolean(),
  /** The answer's Content-Type (HTTP). */
  contentType: z.string().optional(),
  /** The answer was longer than what is kept (256 KiB): only its start was searched. */
  truncated: z.boolean().optional(),
  /** The value read (a version), when the action is a read. */
  value: z.string().optional(),
  /** The start of the answer, printable. */
  output: z.string().optional(),
  error: z.string().optional(),
  /** Whether the answer crossed the network unencrypted (http://, ssh is encrypted, serial is local). */
  clearText: z.boolean(),
  /** The device answered that it is locking or throttling (HTTP 429/423, Retry-After, lock words): the request was not judged. */
  locked: z.string().optional(),
  /** A wait for the lab credential to work again before (or after) the request: how long, why, and whether it did. */
  access: z.object({ waitedMs: z.number(), why: z.string(), ok: z.boolean() }).optional(),
});
export type ActionRecord = z.infer<typeof actionRecordSchema>;

export interface ActionResult {
  record: ActionRecord;
  /** The whole answer (bounded), kept in memory only: to search for canaries. */
  text: string;
}

/** Raised when an operator action is needed and there is no operator (--non-interactive). */
export class OperatorUnavailable extends Error {
  constructor(action: string) {
    super(`${action} is an operator step and this run is non-interactive`);
  }
}

export interface ActionOptions {
  /** Bytes to send: the request body, or the command's stdin. */
  body?: Buffer;
  /** How the body is called in the record ("tampered image, 4.4 KiB"). */
  bodyLabel?: string;
  /** This action reads a value (a version): extract it. */
  read?: boolean;
  /** One attempt only: the caller polls and is the retry loop itself. */
  once?: boolean;
  timeoutMs?: number;
}

function extract(text: string, expect: string | undefined): string | undefined {
  if (expect) {
    const m = new RegExp(expect, 'm').exec(text);
    if (!m) return undefined;
    return (m[1] ?? m[0]).trim();
  }
  const line = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find(Boolean);
  return line?.slice(0, 200);
}

function kib(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

function multipart(field: string, body: Buffer): { type: string; data: Buffer } {
  const boundary = `starbench${Date.now().toString(16)}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="firmware.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  return { type: `multipart/form-data; boundary=${boundary}`, data: Buffer.concat([head, body, Buffer.from(`\r\n--${boundary}--\r\n`)]) };
}

/** The Content-Type of a declared body: as declared, else JSON when it looks like JSON, else a form. */
export function bodyType(a: Pick<NonNullable<Action['http']>, 'body' | 'contentType'>): string {
  if (a.contentType) return a.contentType;
  return /^\s*[[{]/.test(a.body ?? '') ? 'application/json' : 'application/x-www-form-urlencoded';
}

/** Basic or Digest: as the action says, else as auth: declares for this port (digest), else Basic. */
function httpAuthScheme(ctx: ProbeContext, a: NonNullable<Action['http']>, port: number): 'basic' | 'digest' {
  if (a.auth) return a.auth;
  const path = new URL(a.url).pathname;
  const declared = ctx.device.auth.filter((m) => m.port === port && (m.scheme === 'basic' || m.scheme === 'digest'));
  const best = declared.find((m) => m.path !== undefined && path.startsWith(m.path)) ?? declared[0];
  return best?.scheme === 'digest' ? 'digest' : 'basic';
}

export { clientCertificate };

/** The TCP port of an action that logs in with a lab credential (its lockout group), or undefined. */
function credentialPort(action: Action): number | undefined {
  if (action.http?.credential) {
    const url = new URL(action.http.url);
    return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  }
  if (action.ssh) return action.ssh.port;
  return undefined;
}

async function httpAction(ctx: ProbeContext, name: string, a: NonNullable<Action['http']>, opts: ActionOptions, rec: ActionRecord): Promise<string> {
  const url = new URL(a.url);
  const isTls = url.protocol === 'https:';
  const port = Number(url.port || (isTls ? 443 : 80));
  rec.clearText = !isTls;
  const headers: Record<string, string> = {};
  const cred = a.credential ? ctx.device.credentials[a.credential] : undefined;
  const clientCert = clientCertificate(cred);
  const scheme = cred?.password !== undefined ? httpAuthScheme(ctx, a, port) : undefined;
  if (cred && scheme === 'basic') headers.Authorization = basicAuth(cred.username, cred.password ?? '');
  let body: Buffer | undefined = opts.body;
  if (body && a.field) {
    const mp = multipart(a.field, body);
    headers['Content-Type'] = mp.type;
    body = mp.data;
  } else if (body) headers['Content-Type'] = 'application/octet-stream';
  else if (a.body !== undefined) {
    body = Buffer.from(a.body, 'utf8');
    headers['Content-Type'] = bodyType(a);
  }
  // lighttpd and others want a Content-Length on every POST, even an empty one.
  if (!body && a.method !== 'GET') body = Buffer.alloc(0);
  const how = [scheme === 'digest' ? 'Digest' : undefined, clientCert ? 'client certificate' : undefined].filter(Boolean).join(', ');
  rec.request = `${a.method} ${a.url}${opts.body ? ` (${opts.bodyLabel ?? 'body'}, ${kib(opts.body.length)})` : a.body !== undefined ? ` (${opts.bodyLabel ?? 'body'}, ${kib(Buffer.byteLength(a.body))})` : ''}${a.credential ? ` as credential "${a.credential}"${how ? ` (${how})` : ''}` : ''}`;
  const path = `${url.pathname}${url.search}`;
  const retryable = a.method === 'GET' && !opts.body && !opts.once;
  let lastErr: unknown;
  for (let attempt = 1; attempt <= (retryable ? GET_ATTEMPTS : 1); attempt++) {
    rec.attempts = attempt;
    try {
      if (cred && scheme === 'digest') {
        // Digest needs the device's nonce first: the same method with no body, then the real request.
        const first = await httpRequest(ctx, {
          port,
          tls: isTls,
          method: a.method,
          path,
          body: a.method === 'GET' ? undefined : Buffer.alloc(0),
          timeoutMs: opts.timeoutMs,
          maxBytes: 4096,
          clientCert,
        });
        const challenge = parseChallenge(String(first.headers['www-authenticate'] ?? ''));
        if (first.status === 401 && challenge) headers.Authorization = digestAuthorization(challenge, a.method, path, cred.username, cred.password ?? '');
        else rec.error = `no Digest challenge (HTTP ${first.status}); sent without credentials`;
      }
      const res = await httpRequest(ctx, {
        port,
        tls: isTls,
        method: a.method,
        path,
        headers,
        body,
        timeoutMs: opts.timeoutMs,
        maxBytes: MAX_TEXT,
        clientCert,
      });
      const text = res.body.toString('utf8');
      rec.status = res.status;
      rec.contentType = typeof res.headers['content-type'] === 'string' ? res.headers['content-type'] : undefined;
      if (res.truncated) rec.truncated = true;
      else delete rec.truncated;
      rec.ok = res.status >= 200 && res.status < 300;
      const lock = lockSignal(res);
      if (lock) {
        rec.locked = lock.detail;
        rec.ok = false;
        noteLock(ctx, port, lock);
      } else rec.locked = undefined;
      if (opts.read && rec.ok) {
        if (a.jsonPath) {
          try {
            const v = dottedValue(JSON.parse(text), a.jsonPath);
            if (typeof v === 'string' || typeof v === 'number') rec.value = String(v);
            else rec.error = `the answer has no string at ${a.jsonPath}`;
          } catch {
            rec.error = `the answer is not JSON, so ${a.jsonPath} cannot be read`;
          }
        } else rec.value = extract(text, undefined);
      }
      return text;
    } catch (err) {
      lastErr = err;
      if (ctx.signal.aborted || attempt === GET_ATTEMPTS || !retryable) break;
      await new Promise((r) => setTimeout(r, 500 * attempt));
    }
  }
  throw lastErr;
}

async function sshAction(ctx: ProbeContext, a: NonNullable<Action['ssh']>, opts: ActionOptions, rec: ActionRecord): Promise<string> {
  const cred = ctx.device.credentials[a.credential];
  rec.clearText = false;
  rec.request = `ssh ${cred.username}@${ctx.connector.host}:${a.port} "${a.command}"${opts.body ? ` < ${opts.bodyLabel ?? 'body'} (${kib(opts.body.length)})` : ''}`;
  const sock = await ctx.connector.tcp(a.port, { signal: ctx.signal });
  const timeoutMs = opts.timeoutMs ?? 60_000;
  return new Promise<string>((resolve, reject) => {
    const client = new Client();
    const out = new WaitableText(MAX_TEXT);
    let settled = false;
    const done = (err: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
      client.end();
      sock.destroy();
      if (err) reject(err);
      else resolve(out.text);
    };
    const onAbort = (): void => done(new Error('aborted'));
    const timer = setTimeout(() => done(new Error(`ssh command did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    client.on('error', (err) => done(err));
    client.on('ready', () => {
      client.exec(a.command, (err, stream) => {
        if (err) return done(err);
        stream.on('data', (c: Buffer) => out.append(c.toString('utf8')));
        stream.stderr.on('data', (c: Buffer) => out.append(c.toString('utf8')));
        stream.on('exit', (code: number | null) => {
          rec.status = code ?? undefined;
        });
        stream.on('close', () => {
          rec.ok = rec.status === 0 && (!a.expect || new RegExp(a.expect, 'm').test(out.text));
          if (opts.read) rec.value = extract(out.text, a.expect);
          done(null);
        });
        stream.end(opts.body);
      });
    });
    if (!(sock instanceof Socket)) return done(new Error('no socket'));
    client.connect({
      sock,
      username: cred.username,
      password: cred.password,
      privateKey: cred.privateKey ? readFileSync(cred.privateKey) : undefined,
      readyTimeout: Math.min(timeoutMs, 15_000),
      // The host key is the SSH probe's business; an action only needs the session.
      hostVerifier: () => true,
    });
  });
}

async function serialAction(ctx: ProbeContext, a: NonNullable<Action['serial']>, opts: ActionOptions, rec: ActionRecord): Promise<string> {
  const serial = ctx.device.target.serial;
  if (!serial) throw new Error('a serial action needs target.serial');
  ctx.scope.assertSerial(serial.path);
  rec.clearText = false;
  rec.request = `serial ${serial.path}: send ${JSON.stringify(a.send)}${a.expect ? `, expect /${a.expect}/` : ''}`;
  const port = await openSerialPort(serial.path, serial.baudRate);
  const out = new WaitableText(MAX_TEXT);
  port.on('data', (c: Buffer) => out.append(c.toString('latin1')));
  port.on('close', () => out.close());
  try {
    port.write(`${a.send}\r`);
    const re = a.expect ? new RegExp(a.expect, 'm') : null;
    // Without an expectation, collect what the line says for a short quiet time.
    const seen = await out.until(() => (re ? re.exec(out.text) : null), re ? (opts.timeoutMs ?? 10_000) : 1500);
    rec.ok = re ? seen !== null : out.text.length > 0;
    if (opts.read) rec.value = extract(out.text, a.expect);
    return out.text;
  } finally {
    await closeSerialPort(port);
  }
}

async function operatorAction(ctx: ProbeContext, name: string, a: NonNullable<Action['operator']>, opts: ActionOptions, rec: ActionRecord): Promise<string> {
  rec.clearText = false;
  rec.request = `operator: ${a.instructions}`;
  if (!ctx.operator) throw new OperatorUnavailable(name);
  if (opts.read) {
    const answer = await ctx.operator.ask(`${a.instructions} (type the value shown, or leave empty if it cannot be read)`, ctx.signal);
    rec.ok = answer.length > 0;
    rec.value = answer || undefined;
    return answer;
  }
  const what = opts.body
    ? `${a.instructions}\n[operator] Image to install: ${opts.bodyLabel ?? 'image'} (${kib(opts.body.length)}), written to the run's evidence folder.`
    : a.instructions;
  rec.ok = await ctx.operator.confirm(what, ctx.signal);
  if (!rec.ok) rec.error = 'the operator said the step could not be done';
  return '';
}

/**
 * Run one declared action. Never throws for what the device does (refusals,
 * dropped connections, timeouts are in the record); throws only
 * OperatorUnavailable and cancellation.
 */
export async function runAction(ctx: ProbeContext, name: string, action: Action, opts: ActionOptions = {}): Promise<ActionResult> {
  const started = Date.now();
  const via: ActionVia = action.http ? 'http' : action.ssh ? 'ssh' : action.serial ? 'serial' : 'operator';
  const rec: ActionRecord = {
    action: name,
    via,
    request: '',
    startedAt: new Date(started).toISOString(),
    durationMs: 0,
    attempts: 1,
    ok: false,
    clearText: false,
  };
  const timeoutMs = opts.timeoutMs ?? ctx.device.limits.actionTimeoutSeconds * 1000;
  let text = '';
  const once = async (): Promise<void> => {
    try {
      if (action.http) text = await httpAction(ctx, name, action.http, { ...opts, timeoutMs }, rec);
      else if (action.ssh) text = await sshAction(ctx, action.ssh, { ...opts, timeoutMs }, rec);
      else if (action.serial) text = await serialAction(ctx, action.serial, { ...opts, timeoutMs }, rec);
      else if (action.operator) text = await operatorAction(ctx, name, action.operator, opts, rec);
    } catch (err) {
      if (err instanceof OperatorUnavailable || ctx.signal.aborted) throw err;
      rec.ok = false;
      rec.error = (err as Error).message;
    }
  };
  // A step that needs the lab credential first makes sure the device accepts it (a lockout tripped by
  // guessing is waited out); one the device answered with a lock, or refused the lab credential where it
  // worked before, is sent again once the lock has cleared — the request was never judged.
  const port = credentialPort(action);
  if (port !== undefined && !opts.once) {
    const w = await ensureAccess(ctx, port, name);
    if (w) rec.access = { waitedMs: w.waitedMs, why: w.why, ok: w.ok };
  }
  await once();
  const group = port !== undefined ? ctx.auth.groupOf(port) : undefined;
  const shutOut = rec.locked !== undefined || (group?.labWorked === true && (rec.status === 401 || rec.status === 407));
  if (port !== undefined && !opts.once && shutOut && !ctx.signal.aborted) {
    const w = await waitForAccess(ctx, port, name, rec.locked ? `the device answered ${rec.locked}` : `the lab credential got HTTP ${rec.status}`);
    rec.access = { waitedMs: (rec.access?.waitedMs ?? 0) + w.waitedMs, why: w.why, ok: w.ok };
    if (w.ok) {
      rec.attempts += 1;
      await once();
    }
  }
  rec.durationMs = Date.now() - started;
  if (text) rec.output = printable(Buffer.from(text.slice(0, OUTPUT_KEPT)), OUTPUT_KEPT);
  return { record: rec, text };
}

export const deviceReturnSchema = z.object({
  returned: z.boolean(),
  /** Milliseconds from the start of the wait until the device answered. */
  afterMs: z.number(),
  polls: z.number().int(),
  /** The version read, when the version action was polled. */
  version: z.string().optional(),
  how: z.string(),
  /** Milliseconds from the start of the wait to the first poll the device did not answer: it had gone away (a restart). */
  awayAfterMs: z.number().optional(),
  /** Polls the device did not answer at all before it came back (an HTTP answer, even a 503, is not one; one silent poll can be a slow answer, several are an absence). */
  missedPolls: z.number().int().optional(),
});
export type DeviceReturn = z.infer<typeof deviceReturnSchema>;

/**
 * After a disruptive action: wait `settleMs` (a device may answer once more
 * before it reboots), then poll the version action — or, without one, the
 * first declared TCP port — until the device answers, bounded by
 * limits.deviceReturnSeconds.
 */
export async function waitForDevice(ctx: ProbeContext, opts: { settleMs: number; returnMs?: number }): Promise<DeviceReturn> {
  const started = Date.now();
  const returnMs = opts.returnMs ?? ctx.device.limits.deviceReturnSeconds * 1000;
  const sleep = (ms: number): Promise<void> => sleepUnlessAborted(ctx.signal, ms);
  await sleep(opts.settleMs);
  const version = ctx.device.update?.version;
  const port = ctx.device.services.find((s) => s.transport === 'tcp')?.port;
  const how = version ? 'polled the version action' : port ? `polled TCP ${port}` : 'nothing to poll';
  let polls = 0;
  let awayAfterMs: number | undefined;
  let missedPolls = 0;
  const deadline = started + opts.settleMs + returnMs;
  while (!ctx.signal.aborted) {
    polls++;
    const polledAt = Date.now() - started;
    // An answer that is not the version (a 503 "rebooting", a 401) is not the device away: only silence is.
    let answered = false;
    if (version && !version.operator) {
      const r = await runAction(ctx, 'update.version', version, { read: true, once: true, timeoutMs: Math.min(5000, Math.max(500, deadline - Date.now())) });
      if (r.record.ok && r.record.value)
        return { returned: true, afterMs: Date.now() - started, polls, version: r.record.value, how, awayAfterMs, missedPolls };
      answered = r.record.status !== undefined;
    } else if (port !== undefined) {
      if ((await ctx.connector.portState(port)) === 'open') return { returned: true, afterMs: Date.now() - started, polls, how, awayAfterMs, missedPolls };
    } else return { returned: true, afterMs: Date.now() - started, polls, how };
    awayAfterMs ??= polledAt;
    if (!answered) missedPolls += 1;
    // Poll once a second up to the bound, and once more at it.
    const left = deadline - Date.now();
    if (left <= 0) break;
    ctx.progress(`waiting for the device to come back (${Math.round((Date.now() - started) / 1000)} s of ${Math.round((opts.settleMs + returnMs) / 1000)} s)`);
    await sleep(Math.min(1000, left));
  }
  return { returned: false, afterMs: Date.now() - started, polls, how, awayAfterMs, missedPolls };
}
