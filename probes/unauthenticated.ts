/**
 * unauthenticated: what each service gives with no credentials at all — a
 * shell on a telnet-like port, admin or configuration pages, personal data
 * on status pages, anonymous MQTT (topics seen in a bounded window), the
 * same over TLS.
 */
import net from 'node:net';
import { Client, type AuthenticationType } from 'ssh2';
import { mapLimit } from '../harness/limiter';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { openPorts, type PortRecord } from './ports';
import { identifyPort } from './ports/identify';
import { canariesIn } from './util/canaries';
import { httpRequest, lockSignal } from './util/http';
import { guarded, labControl, labLoginFor, noteLock, waitForAccess } from './credentials/session';
import { declaredCertificateOnly, labClientCert } from './util/client-cert';
import { proveClientCertRequired, tlsConnect } from './util/tls-connect';
import { TelnetSession } from './util/telnet';
import { inputValue } from './util/shape';
import { WaitableText } from './util/waitable-text';
import { ftpLogin } from './util/ftp';
import { walkAnonymousFtp } from './util/ftp-walk';
import snmp from 'net-snmp';
import { DEFAULT_COMMUNITIES, SNMP_LIMITS, askSnmp, labCommunity } from './util/snmp-walk';
import { parsePortSpec } from '../harness/device-file/schema';
import { MQTT_WINDOW_MS, mqttListen } from './util/mqtt-listen';

// Paths where IoT devices commonly expose administration or configuration (OWASP IoT Top 10 I3/I9, vendor advisories).
export const ADMIN_PATHS = [
  '/admin',
  '/cgi-bin/admin',
  '/config',
  '/cgi-bin/config',
  '/setup',
  '/system',
  '/api/config',
  '/api/v1/config',
  '/config.bin',
  '/cgi-bin/status',
  '/status',
];
/** What of one answer is kept and searched. */
const MAX_BODY = 1024 * 1024;
const CONFIG_WORDS = /(password|passwd|psk|ssid|wifi|admin|firmware|config|user ?name)/i;
/** A secret with its value, in JSON, an INI/shell-style dump or a query string: `"psk": "…"`, `wpa_passphrase=…`. */
const SECRET_VALUE =
  /["']?([A-Za-z0-9_.-]*?(?:password|passwd|pass|psk|passphrase|wifi_?key|secret|api[_-]?key|token|private_?key)[A-Za-z0-9_-]*)["']?\s*[:=]\s*["']?([^"'\s,;}&<>]{4,})/gi;
/** Keys about a secret that are not one: a hint, a label, a policy. */
const NOT_A_SECRET_KEY = /(hint|label|placeholder|title|text|policy|min|max|length|required|enabled|type|changed|expires?|age)$/i;

/** Secret keys that carry a value in a body (text or binary): configuration handed to anyone. */
export function secretsIn(body: Buffer): string[] {
  const text = body.toString('latin1');
  const keys = new Set<string>();
  for (const m of text.matchAll(SECRET_VALUE)) {
    // A form's field name (name="password"), a placeholder or an empty-looking value is not a secret.
    if (/^(\*+|x+|null|none|true|false|undefined|password)$/i.test(m[2]) || NOT_A_SECRET_KEY.test(m[1])) continue;
    keys.add(m[1].toLowerCase());
  }
  // A form that carries the secret as a field's value (<input name|id="wifi_psk" value="…">, a <textarea>), on any page, / included.
  const fields = [
    ...[...text.matchAll(/<input\b[^>]*>/gi)].map((m) => ({ tag: m[0], value: inputValue(m[0]) })),
    ...[...text.matchAll(/(<textarea\b[^>]*>)([^<]*)/gi)].map((m) => ({ tag: m[1], value: m[2] })),
  ];
  for (const { tag, value } of fields) {
    const name = /\s(?:name|id)\s*=\s*["']?([\w.[\]-]{1,60})/i.exec(tag)?.[1];
    const v = value.trim();
    if (!name || v.length < 4 || NOT_A_SECRET_KEY.test(name) || /^(\*+|•+|x+|null|none|true|false|undefined|password)$/i.test(v)) continue;
    if (/password|passwd|pass$|psk|passphrase|wifi_?key|secret|api[_-]?key|token|private_?key/i.test(name)) keys.add(name.toLowerCase());
  }
  // A private key handed out in any form (PEM).
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)) keys.add('private key (PEM)');
  return [...keys];
}

/** Kinds asked as HTTP, MQTT over TLS and a shell in turn: what identification could not name, or named only as TLS. */
const ASKED_AS_UNKNOWN = new Set(['unknown', 'other', 'tls']);

export const EXPOSURES = ['shell', 'admin', 'config', 'personal-data', 'mqtt-anonymous', 'ftp-anonymous', 'status', 'stream'] as const;

/** Something reachable without credentials (or a place that could not be checked: `detail` says so). */
export const UnauthenticatedFact = defineFact(
  'unauthenticated',
  z.object({ port: z.number().int(), protocol: z.string(), what: z.enum(EXPOSURES), where: z.string(), canaries: z.array(z.string()), detail: z.string() }),
  (e) => (e.detail.startsWith('could not be checked') ? `${e.where}: ${e.detail}` : null),
);
export type Exposure = z.infer<typeof UnauthenticatedFact.schema>;

/** The services asked, as "kind port". */
export const UnauthenticatedScanFact = defineFact('unauthenticated-scan', z.object({ ports: z.array(z.string()) }));

/** A port that gave no usable answer: the check cannot say "nothing open" about it. */
function unchecked(port: number, protocol: string, why: string): Exposure {
  return { port, protocol, what: 'status', where: `${protocol} ${port}`, canaries: [], detail: `could not be checked: ${why}` };
}

/** "echo SB$((1234+4321))" printed 5555: commands run (an echoing line prints the expression, not the sum). */
const SHELL_PROOF = 'echo SB$((1234+4321))';
const LOGIN_PROMPT = /(login|user ?name|password)\s*:\s*$/i;
const PROMPT = new RegExp(`${LOGIN_PROMPT.source}|[#$>%] ?$`, 'i');
/** How long the text must stay still before its end is read as a prompt. */
const QUIET_MS = 400;

/**
 * A prompt at the end of the text that stays there: text still coming ("Last
 * login:" and then the rest of the motd line, then "# ") is not a prompt yet.
 */
async function settledPrompt(t: TelnetSession, ms: number, from = 0): Promise<RegExpMatchArray | null> {
  const deadline = Date.now() + ms;
  for (;;) {
    const m = await t.waitFor(PROMPT, Math.max(0, deadline - Date.now()), from);
    if (!m) return null;
    const length = t.text.length;
    if (!(await t.waitFor(/[\s\S]/, QUIET_MS, length))) return t.text.slice(from).match(PROMPT);
    if (Date.now() >= deadline) return t.text.slice(from).match(PROMPT);
  }
}

/**
 * A shell without login on a stream that may print nothing until it is
 * spoken to (a bind shell prints no prompt): wait for a prompt, then send a
 * newline and the arithmetic whether one came or not. Only the sum proves a
 * shell; a login prompt proves one is asked for; anything else is unknown.
 */
async function askShell(ctx: ProbeContext, sock: net.Socket, port: number, protocol: string, where: string, promptWaitMs = 3000): Promise<Exposure | null> {
  const t = new TelnetSession(sock);
  let prompt = await settledPrompt(t, promptWaitMs);
  let mark = t.text.length;
  if (prompt && /:\s*$/.test(prompt[0])) {
    // A login prompt is believed when the device asks again after an empty answer, says no, or hangs up, as a login
    // program does; a shell whose motd line merely ended in "login:" shows its own prompt instead.
    t.send('');
    const again = await settledPrompt(t, 3000, mark);
    if (t.closed || (again && /:\s*$/.test(again[0])) || /incorrect|invalid|denied|fail/i.test(t.text.slice(mark))) return null;
    if (!again)
      return unchecked(
        port,
        protocol,
        `a login-like prompt (${JSON.stringify(prompt[0].trim().slice(-20))}) that neither asked again nor answered after an empty line`,
      );
    prompt = again;
    mark = t.text.length;
  } else if (!prompt) {
    t.send('');
    await settledPrompt(t, 1000, mark);
    if (LOGIN_PROMPT.test(t.text.slice(mark))) return null;
    mark = t.text.length;
  }
  t.send(SHELL_PROOF);
  if (await t.waitFor(/SB5555/, 3000, mark))
    return {
      port,
      protocol: 'shell',
      what: 'shell',
      where,
      canaries: canariesIn(ctx.device, t.text),
      // The sum, not the command: its numbers could be someone's PIN, and a report never repeats a credential.
      detail: 'a shell that runs commands with no login (a sum sent with echo came back computed)',
    };
  const seen = `${t.text.length} bytes seen${t.closed ? ', then it closed' : ''}`;
  return unchecked(
    port,
    protocol,
    prompt
      ? `a prompt without a login (${JSON.stringify(prompt[0].trim().slice(-20))}) that does not run shell arithmetic: a vendor command line needs a reviewer (${seen})`
      : `neither a login prompt nor a shell, also after a newline and ${JSON.stringify(SHELL_PROOF)} (${seen})`,
  );
}

async function shellWithoutLogin(ctx: ProbeContext, port: number, protocol: string): Promise<Exposure | null> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  try {
    return await askShell(ctx, sock, port, protocol, `TCP ${port}`);
  } finally {
    sock.destroy();
  }
}

/**
 * A port whose protocol is not known (the scan's identification found none of
 * SSH, telnet, FTP, HTTP, MQTT in it, or only TLS): asked as HTTP (HTTPS on a
 * TLS port), then MQTT over TLS, then as a shell, before it counts as asked.
 * A port that answers none of them stays unknown.
 */
async function askUnknown(ctx: ProbeContext, port: number, kind: string, isTls: boolean): Promise<Exposure[]> {
  const tried: string[] = [];
  try {
    const res = await httpRequest(ctx, { port, tls: isTls, path: '/', timeoutMs: 3000, maxBytes: 4096 });
    if (res.status >= 100) return await webWithoutLogin(ctx, port, isTls);
  } catch (err) {
    tried.push(`${isTls ? 'HTTPS' : 'HTTP'}: ${(err as Error).message}`);
  }
  if (isTls) {
    const l = await listenAnonymously(ctx, port, true);
    if (l.accepted || l.code !== undefined) return [await anonymousMqtt(ctx, port, true, l)].filter((x): x is Exposure => x !== null);
    tried.push(`MQTT over TLS: ${l.error ?? 'no answer'}`);
  }
  let sock: net.Socket;
  if (isTls) {
    const t = await tlsConnect(ctx, port);
    if (t.kind !== 'connected') return [unchecked(port, kind, `${tried.join('; ')}; TLS for a shell: ${t.message}`)];
    sock = t.socket;
  } else sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  try {
    // Identification already waited for a banner and sent three requests: a shorter wait for a prompt here.
    const shell = await askShell(ctx, sock, port, kind, `${isTls ? 'TLS' : 'TCP'} ${port}`, 1500);
    if (shell === null || shell.what === 'shell') return shell ? [shell] : [];
    return [{ ...shell, detail: `${shell.detail}; ${tried.join('; ')}` }];
  } finally {
    sock.destroy();
  }
}

/** SSH with no credentials at all: the "none" method (RFC 4252 §5.2) either opens a session or lists the methods it wants. */
async function sshWithoutLogin(ctx: ProbeContext, port: number): Promise<Exposure | null> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  return new Promise((resolve) => {
    const client = new Client();
    let settled = false;
    const done = (e: Exposure | null): void => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      client.end();
      sock.destroy();
      resolve(e);
    };
    const onAbort = (): void => done(unchecked(port, 'ssh', 'aborted'));
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    client.on('ready', () =>
      done({
        port,
        protocol: 'ssh',
        what: 'shell',
        where: `ssh ${port}`,
        canaries: [],
        detail: 'SSH accepted the "none" method: a session without any credentials',
      }),
    );
    client.on('error', (err: Error & { level?: string }) => done(err.level === 'client-authentication' ? null : unchecked(port, 'ssh', err.message)));
    client.on('close', () => done(unchecked(port, 'ssh', 'closed before authentication')));
    let asked = false;
    client.connect({
      sock,
      username: 'root',
      readyTimeout: 5000,
      // The device's host key is the SSH probe's business.
      hostVerifier: () => true,
      authHandler: (_left, _partial, next) => {
        if (asked) return next(false as unknown as AuthenticationType);
        asked = true;
        return next({ type: 'none', username: 'root' } as unknown as AuthenticationType);
      },
    });
  });
}

async function webWithoutLogin(ctx: ProbeContext, port: number, isTls: boolean): Promise<Exposure[]> {
  const declared = ctx.device.auth.filter((a) => a.port === port && a.path).map((a) => a.path as string);
  const paths = [...new Set(['/', ...declared, ...ADMIN_PATHS])];
  const out: Exposure[] = [];
  let answered = 0;
  let lastError = '';
  const group = ctx.auth.groupOf(port);
  const protocol = isTls ? 'https' : 'http';
  const lab = labLoginFor(ctx, port) !== undefined;
  // The lab login first: a device already locked answers 401 to everything, an open page included. One that does not
  // work (locked before the sweep, by the scan's own requests, or a wrong lab credential) is waited for, bounded.
  let labBroken: string | undefined;
  if (lab) {
    const c = await labControl(ctx, port);
    if (c.result !== 'accepted' && c.result !== 'unknown') {
      const w = await waitForAccess(ctx, port, 'unauthenticated access', c.detail);
      if (!w.ok) labBroken = w.why;
    }
  }
  /** Refusals (401/403) with the ledger epoch they came in: one in an epoch found locked says nothing. */
  const refused: Array<{ path: string; epoch: number }> = [];
  const ask = async (path: string): Promise<void> => {
    let res;
    let epoch = group.epoch;
    try {
      // Many devices count a credential-less request to a protected page as a failed login: under the lockout ledger.
      res = await guarded(
        ctx,
        port,
        () => {
          epoch = group.epoch;
          return httpRequest(ctx, { port, tls: isTls, path, maxBytes: MAX_BODY });
        },
        (r) => (r.status === 401 || r.status === 403 ? 1 : 0),
      );
    } catch (err) {
      lastError = (err as Error).message;
      return;
    }
    if (res === null) {
      out.push({
        ...unchecked(port, protocol, 'not asked: at the lockout limit, and the lab credential could not reset the count'),
        where: `${protocol} ${port} ${path}`,
      });
      return;
    }
    answered += 1;
    const lock = lockSignal(res);
    if (lock) {
      // A lock answer says nothing about whether the page is open.
      noteLock(ctx, port, lock);
      out.push({ ...unchecked(port, protocol, `the device answered with a lock (${lock.detail})`), where: `${protocol} ${port} ${path}` });
      return;
    }
    if (res.status === 401 || res.status === 403) refused.push({ path, epoch });
    // Any 2xx hands out what it carries (203, 206 included).
    if (res.status < 200 || res.status >= 300) return;
    const body = res.body.toString('latin1');
    const canaries = canariesIn(ctx.device, body);
    const secrets = secretsIn(res.body);
    // A body larger than what is kept was not searched to its end: a secret past the cut cannot be ruled out.
    if (res.truncated && secrets.length === 0 && canaries.length === 0) {
      out.push({
        ...unchecked(port, protocol, `HTTP ${res.status} with more than ${MAX_BODY / 1024} KiB: only the first ${MAX_BODY / 1024} KiB searched`),
        where: `${protocol} ${port} ${path}`,
      });
      return;
    }
    const seen = (what: Exposure['what'], detail: string): number => out.push({ port, protocol, what, where: `${protocol} ${port} ${path}`, canaries, detail });
    if (declared.includes(path)) seen('admin', `HTTP ${res.status} without credentials on a path the device file says needs a login`);
    else if (canaries.length) seen('personal-data', `HTTP ${res.status} without credentials shows personal data (${canaries.join(', ')})`);
    else if (secrets.length) seen('config', `HTTP ${res.status} without credentials serves configuration with secrets (${secrets.join(', ')})`);
    else if (ADMIN_PATHS.includes(path) && /<form|<input/i.test(body) && CONFIG_WORDS.test(body))
      seen('config', 'HTTP 200 without credentials serves an administration form');
    else if (path !== '/') seen('status', `HTTP ${res.status} without credentials (${res.body.length} bytes, no personal data seen)`);
  };
  for (const path of paths) await ask(path);
  if (labBroken) {
    for (const r of refused)
      out.push({
        ...unchecked(port, protocol, `refused, but the lab credential does not work here either (${labBroken})`),
        where: `${protocol} ${port} ${r.path}`,
      });
    refused.length = 0;
  }
  // The closing control: refused where it worked means the device was locked at some point of the sweep; the
  // refusals of that epoch are asked again once the lock has cleared, and those still in doubt say so.
  if (lab && !labBroken) {
    const epoch = group.epoch;
    const c = await labControl(ctx, port);
    if ((c.result === 'refused' && group.labWorked) || c.result === 'locked') {
      group.tainted.add(epoch);
      await waitForAccess(ctx, port, 'unauthenticated access', `the lab credential stopped working during the sweep (${c.detail})`);
    }
    const doubtful = [...new Set(refused.filter((r) => group.tainted.has(r.epoch)).map((r) => r.path))];
    refused.length = 0;
    for (const path of doubtful) await ask(path);
    if (doubtful.length) {
      const again = group.epoch;
      const c2 = await labControl(ctx, port);
      if (c2.result !== 'accepted') group.tainted.add(again);
    }
    for (const r of refused.filter((x) => group.tainted.has(x.epoch)))
      out.push({ ...unchecked(port, protocol, 'refused only while the device was locked'), where: `${protocol} ${port} ${r.path}` });
  } else if (group.signals.length > 0 || group.tainted.size > 0) {
    // No lab login to tell a lock from a protected page, and the device showed it locks: every refusal is in doubt.
    for (const r of refused)
      out.push({
        ...unchecked(port, protocol, 'refused while the device was locking logins, and no lab credential shows when it was not'),
        where: `${protocol} ${port} ${r.path}`,
      });
  }
  if (answered === 0) out.push(unchecked(port, isTls ? 'https' : 'http', `no HTTP answer on any of ${paths.length} paths (${lastError})`));
  return out;
}

/** CONNACK refusals that mean "log in first": 3.1.1 return codes 4 and 5 (§3.2.2.3), MQTT 5 reason codes 0x86 and 0x87 (§3.2.2.2). */
const MQTT_AUTH_REFUSALS = new Set([4, 5, 0x86, 0x87]);

/** An anonymous CONNECT in MQTT 3.1.1, and in MQTT 5 when the broker says 3.1.1 is not its version (return code 1). */
async function listenAnonymously(ctx: ProbeContext, port: number, isTls: boolean): Promise<Awaited<ReturnType<typeof mqttListen>>> {
  const l = await mqttListen(ctx, port, isTls);
  return l.code === 1 ? mqttListen(ctx, port, isTls, undefined, MQTT_WINDOW_MS, 5) : l;
}

/** `heard`: what a listen already made on this port gave (an unknown TLS port asked as MQTT), instead of a second one. */
async function anonymousMqtt(ctx: ProbeContext, port: number, isTls: boolean, heard?: Awaited<ReturnType<typeof mqttListen>>): Promise<Exposure | null> {
  // A broker declared certificate-only that proves it admits nobody without one has nothing open to anonymous clients.
  if (isTls && declaredCertificateOnly(ctx.device, port)) {
    const proof = await proveClientCertRequired(ctx, port, labClientCert(ctx.device, port));
    if (proof.required) return null;
    if (!proof.proven) return unchecked(port, 'mqtts', proof.detail);
  }
  const l = heard ?? (await listenAnonymously(ctx, port, isTls));
  // Only "bad user name or password" and "not authorised" say a login is required; another refusal (protocol
  // version, identifier, server unavailable) or garbage or nothing says nothing about anonymous clients.
  if (!l.accepted)
    return l.code !== undefined && MQTT_AUTH_REFUSALS.has(l.code)
      ? null
      : unchecked(
          port,
          isTls ? 'mqtts' : 'mqtt',
          `no CONNACK that accepts or refuses for want of credentials (${l.error}${l.code !== undefined ? `, code ${l.code}` : ''})`,
        );
  const withCanaries = [...l.topics].filter(([, c]) => c.length);
  const categories = [...new Set(withCanaries.flatMap(([, c]) => c))];
  const protocol = isTls ? 'mqtts' : 'mqtt';
  return {
    port,
    protocol,
    what: 'mqtt-anonymous',
    where: `${protocol} ${port}`,
    canaries: categories,
    detail: `anonymous client accepted; ${l.topics.size} topic(s) seen in ${MQTT_WINDOW_MS / 1000} s${withCanaries.length ? `, personal data (${categories.join(', ')}) on ${withCanaries.map(([t]) => t).join(', ')}` : ''}`,
  };
}

/** Where cameras commonly serve their RTSP stream (vendor manuals); declared paths (auth[] with protocol rtsp) come first. */
const RTSP_PATHS = ['/', '/live', '/stream1', '/h264', '/ch0', '/live.sdp', '/video', '/Streaming/Channels/101'];

/** One RTSP DESCRIBE (RFC 2326 §10.2) on its own connection: the status, or why there was none. */
async function rtspDescribe(
  ctx: ProbeContext,
  port: number,
  path: string,
  cseq: number,
  waitMs = 3000,
): Promise<{ status?: number; sdp?: boolean; error?: string }> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  const text = new WaitableText(16 * 1024);
  sock.on('data', (c: Buffer) => text.append(c.toString('latin1')));
  sock.on('close', () => text.close());
  try {
    const address = sock.remoteAddress ?? ctx.connector.host;
    const host = net.isIPv6(address) ? `[${address}]` : address;
    sock.write(`DESCRIBE rtsp://${host}:${port}${path} RTSP/1.0\r\nCSeq: ${cseq}\r\nAccept: application/sdp\r\nUser-Agent: starbench\r\n\r\n`);
    const head = await text.until(() => text.text.match(/^RTSP\/1\.\d (\d{3})[^\n]*\n[\s\S]*?\r?\n\r?\n/), waitMs);
    if (!head) return { error: text.text.length ? `not an RTSP answer (${JSON.stringify(text.text.slice(0, 40))})` : `no answer within ${waitMs / 1000} s` };
    const status = Number(head[1]);
    if (status === 200) await text.until(() => (/\bv=0/.test(text.text) ? true : null), 1000);
    return { status, sdp: /\bv=0/.test(text.text) };
  } finally {
    sock.destroy();
  }
}

/**
 * A camera's RTSP stream without credentials: DESCRIBE on the declared and
 * the common stream paths. A session description (200) is the stream open to
 * anyone; a 401 is the evidence it asks for credentials; paths that are all
 * unknown to the server (404) leave the question open.
 */
async function rtspWithoutLogin(ctx: ProbeContext, port: number): Promise<Exposure[]> {
  const declared = ctx.device.auth.filter((a) => a.port === port && a.protocol === 'rtsp' && a.path).map((a) => a.path as string);
  const paths = [...new Set([...declared, ...RTSP_PATHS])];
  const statuses: string[] = [];
  let refused = 0;
  const declaredRefused = new Set<string>();
  const open: Exposure[] = [];
  for (const [i, path] of paths.entries()) {
    // A declared stream may take a while to start (the encoder wakes up): it gets a longer wait.
    const r = await rtspDescribe(ctx, port, path, i + 1, declared.includes(path) ? 8000 : 3000);
    statuses.push(`${path} ${r.status ?? r.error}`);
    if (r.status === undefined) continue;
    if (r.status === 401 || r.status === 403) {
      refused += 1;
      if (declared.includes(path)) declaredRefused.add(path);
    }
    if (r.status >= 200 && r.status < 300)
      open.push({
        port,
        protocol: 'rtsp',
        what: 'stream',
        where: `rtsp ${port} ${path}`,
        canaries: [],
        detail: `RTSP DESCRIBE answered ${r.status}${r.sdp ? ' with a session description' : ''} without credentials: the stream opens for anyone`,
      });
  }
  if (open.length) return open;
  // A declared stream path is where the stream is: it must itself be refused. A 401 elsewhere says nothing about it.
  const declaredOpen = declared.filter((p) => !declaredRefused.has(p));
  if (declaredOpen.length)
    return [
      unchecked(
        port,
        'rtsp',
        `the declared stream path${declaredOpen.length > 1 ? 's' : ''} ${declaredOpen.join(', ')} answered neither 200 nor 401 (${statuses.join(', ')})`,
      ),
    ];
  if (refused) return [];
  return [unchecked(port, 'rtsp', `no stream path answered 200 or 401 (${statuses.join(', ')}): declare the stream's path under auth[] (protocol rtsp, path)`)];
}

/**
 * Anonymous FTP: the login, then a bounded walk of what it shows (names and
 * file contents searched for the canaries and for secrets with their values).
 */
async function anonymousFtp(ctx: ProbeContext, port: number): Promise<Exposure | null> {
  const sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  let login;
  try {
    // RFC 1635: anonymous FTP takes user "anonymous" and an e-mail-like password.
    login = await ftpLogin(sock, 'anonymous', 'starbench@example.invalid');
  } finally {
    sock.destroy();
  }
  if (login.result === 'rejected') return null;
  if (login.result !== 'accepted')
    return unchecked(port, 'ftp', `no usable answer to an anonymous login (${login.result}${login.codes.length ? `: ${login.codes.join(' ')}` : ''})`);
  const walk = await walkAnonymousFtp(ctx, port);
  const canaries = new Set<string>(canariesIn(ctx.device, walk.entries.join('\n')));
  const found: string[] = [];
  for (const f of walk.files) {
    const c = canariesIn(ctx.device, f.content.toString('latin1'));
    const secrets = secretsIn(f.content);
    c.forEach((x) => canaries.add(x));
    if (c.length) found.push(`personal data (${c.join(', ')}) in ${f.path}`);
    if (secrets.length) found.push(`secrets (${secrets.join(', ')}) in ${f.path}`);
  }
  const walked = walk.loggedIn
    ? `; walked ${walk.directories} folder(s), ${walk.entries.length} entries, read ${walk.files.length} file(s)${found.length ? `: ${found.join('; ')}` : ''}${walk.incomplete.length ? ` (not all seen: ${walk.incomplete.slice(0, 3).join('; ')}${walk.incomplete.length > 3 ? ` and ${walk.incomplete.length - 3} more` : ''})` : ''}`
    : `; the walk could not log in again (${walk.error})`;
  return {
    port,
    protocol: 'ftp',
    what: 'ftp-anonymous',
    where: `ftp ${port}`,
    canaries: [...canaries],
    detail: `anonymous FTP login accepted (${login.codes.join(' ')})${walked}`,
  };
}

/** "oid = value" lines worth showing: the system group's text objects (sysDescr, sysContact, sysName, sysLocation). */
const SYSTEM_TEXT = /^1\.3\.6\.1\.2\.1\.1\.(1|4|5|6)\.0 = /;
const SYSTEM_NAMES: Record<string, string> = { '1': 'sysDescr', '4': 'sysContact', '5': 'sysName', '6': 'sysLocation' };

/**
 * SNMP with the default communities, on the declared SNMP ports and on UDP
 * 161 when the scan covers it. An answer is the agent handing out what it
 * holds to anyone (walked and searched, bounded). Silence is no evidence:
 * an agent drops a community it does not know without a word, so a declared
 * agent is shown protected only when the lab's own community (auth[] with
 * protocol snmp) gets an answer; an undeclared 161 that is silent to one
 * quick "public" request is not listed as asked.
 */
async function snmpWithoutCredentials(ctx: ProbeContext, port: number, declared: boolean): Promise<{ asked: boolean; exposure: Exposure | null }> {
  if (!declared) {
    const quick = await askSnmp(ctx, port, ['public'], { versions: [snmp.Version2c], limits: { ...SNMP_LIMITS, retries: 0 } });
    if (!quick.answered) return { asked: false, exposure: null };
  }
  const r = await askSnmp(ctx, port, DEFAULT_COMMUNITIES);
  if (r.answered) {
    const text = r.walk.objects.join('\n');
    const secrets = secretsIn(Buffer.from(text, 'latin1'));
    // Names only: sysContact or sysLocation may be the owner's own data, which a report must not repeat.
    const shown = r.walk.objects.filter((o) => SYSTEM_TEXT.test(o)).map((o) => SYSTEM_NAMES[o.split('.')[7]]);
    return {
      asked: true,
      exposure: {
        port,
        protocol: 'snmp',
        what: 'config',
        where: `snmp udp/${port} community "${r.walk.community}"`,
        canaries: canariesIn(ctx.device, text),
        detail: `SNMP ${r.walk.version} answers the default community "${r.walk.community}": ${r.walk.objects.length} objects of the system group and interfaces read without credentials${shown.length ? ` (${shown.join(', ')} among them)` : ''}${secrets.length ? `; secrets (${secrets.join(', ')})` : ''}${r.walk.incomplete.length ? `; not all read: ${r.walk.incomplete.join('; ')}` : ''}`,
      },
    };
  }
  const community = labCommunity(ctx, port);
  if (community === undefined)
    return {
      asked: true,
      exposure: unchecked(
        port,
        'snmp',
        `silent to the communities ${DEFAULT_COMMUNITIES.map((c) => `"${c}"`).join(', ')}, and with no lab community declared (auth[] with protocol snmp) that silence cannot be told from an agent that is down`,
      ),
    };
  const control = await askSnmp(ctx, port, [community], { versions: [snmp.Version2c, snmp.Version1], limits: { ...SNMP_LIMITS, objects: 1 } });
  return {
    asked: true,
    exposure: control.answered
      ? null
      : unchecked(port, 'snmp', `silent to the default communities, and to the lab's community too (${control.why}): the agent may be down`),
  };
}

export const unauthenticatedProbe: Probe = {
  id: 'unauthenticated',
  title: 'What each service gives without credentials (shells, admin pages, personal data, anonymous MQTT)',
  needs: ['host'],
  facts: [UnauthenticatedFact, UnauthenticatedScanFact],
  dependsOn: ['tcp-ports'],
  clauses: ['EN 303 645 5.5-4', 'EN 303 645 5.5-5', 'JC-STAR S1.1-01'],
  async run(ctx) {
    const open = openPorts(ctx);
    const declared = new Map(ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => [s.port, s.protocol]));
    const kindOf = (r: PortRecord): string =>
      r.service && r.service !== 'unknown' && r.service !== 'tls' ? r.service : (declared.get(r.port) ?? r.service ?? 'unknown');
    // SNMP: the declared agents, and UDP 161 when the scan covers it (the UDP default list, or a scan.udp naming it).
    const udpDeclared = ctx.device.services.filter((s) => s.transport === 'udp');
    const snmpPorts = new Map(udpDeclared.filter((s) => s.protocol === 'snmp').map((s) => [s.port, true]));
    const udpSpec = ctx.device.scan?.udp ? (parsePortSpec(ctx.device.scan.udp) ?? []) : [161];
    if (udpSpec.includes(161) && !udpDeclared.some((s) => s.port === 161)) snmpPorts.set(161, false);
    const snmpAsked = Promise.all(
      [...snmpPorts].map(async ([port, isDeclared]) => {
        try {
          return { port, ...(await snmpWithoutCredentials(ctx, port, isDeclared)) };
        } catch (err) {
          return { port, asked: true, exposure: unchecked(port, 'snmp', (err as Error).message) };
        }
      }),
    );
    const ask = async (c: ProbeContext, r: PortRecord): Promise<Exposure[]> => {
      const kind = kindOf(r);
      try {
        // Declared as HTTP, found speaking TLS: asked as HTTPS.
        if (r.service === 'tls' && kind === 'http') return await webWithoutLogin(c, r.port, true);
        if (kind === 'ssh') return [await sshWithoutLogin(c, r.port)].filter((x): x is Exposure => x !== null);
        if (kind === 'shell' || kind === 'telnet') return [await shellWithoutLogin(c, r.port, kind)].filter((x): x is Exposure => x !== null);
        if (kind === 'http' || kind === 'https') return await webWithoutLogin(c, r.port, kind === 'https');
        if (kind === 'ftp') return [await anonymousFtp(c, r.port)].filter((x): x is Exposure => x !== null);
        if (kind === 'mqtt' || kind === 'mqtts') return [await anonymousMqtt(c, r.port, kind === 'mqtts')].filter((x): x is Exposure => x !== null);
        if (kind === 'onvif') return await webWithoutLogin(c, r.port, r.service === 'tls');
        if (kind === 'rtsp') return await rtspWithoutLogin(c, r.port);
        if (ASKED_AS_UNKNOWN.has(kind)) return await askUnknown(c, r.port, kind, kind === 'tls' || r.service === 'tls');
        return [unchecked(r.port, kind, `no probe asks ${kind} for what it gives without credentials`)];
      } catch (err) {
        return [
          { port: r.port, protocol: kind, what: 'status', where: `${kind} ${r.port}`, canaries: [], detail: `could not be checked: ${(err as Error).message}` },
        ];
      }
    };
    // A port open on both families may be another service on each (a login on IPv4, a shell on IPv6): the IPv6
    // side is identified and asked on its own, and what it gives is said as found on IPv6.
    const v6: ProbeContext | undefined = ctx.scope.host6 ? { ...ctx, connector: ctx.connector.forFamily(6) } : undefined;
    const dual = v6 ? open.filter((r) => r.families?.includes('ipv4') && r.families.includes('ipv6')) : [];
    const jobs: Array<{ r: PortRecord; c: ProbeContext; ipv6: boolean }> = [
      ...open.map((r) => ({ r, c: ctx, ipv6: false })),
      ...dual.map((r) => ({ r, c: v6!, ipv6: true })),
    ];
    const bannerWait = ctx.device.scan?.bannerWaitMs ?? 500;
    const results = await mapLimit(jobs, ctx.connector.slots.limit, async ({ r, c, ipv6 }): Promise<Exposure[]> => {
      if (!ipv6) return ask(c, r);
      const id = await identifyPort(c, r.port, bannerWait).catch((err: Error) => ({
        service: undefined,
        identifiedBy: `identification failed: ${err.message}`,
      }));
      const found = await ask(c, { ...r, service: id.service, identifiedBy: id.identifiedBy, banner: undefined });
      return found.map((e) => ({ ...e, where: `${e.where} on IPv6` }));
    });
    const snmpResults = await snmpAsked;
    const observations: Observation[] = [...results.flat(), ...snmpResults.flatMap((x) => (x.exposure ? [x.exposure] : []))].map((e) => ({
      kind: 'unauthenticated',
      port: e.port,
      protocol: e.protocol,
      summary: `${e.where}: ${e.detail}`,
      data: { ...e },
    }));
    observations.push({
      kind: 'unauthenticated-scan',
      summary: `asked ${open.length} open TCP ports${dual.length ? ` (${dual.length} on IPv6 too)` : ''}${snmpResults.some((x) => x.asked) ? ' and SNMP' : ''} without credentials`,
      data: {
        ports: [
          ...open.map((r) => `${kindOf(r)} ${r.port}`),
          ...dual.map((r) => `${kindOf(r)} ${r.port} on IPv6`),
          ...snmpResults.filter((x) => x.asked).map((x) => `snmp udp/${x.port}`),
        ],
      },
    });
    return { observations };
  },
};
