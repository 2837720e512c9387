/**
 * What `starbench init` needs to draft a device file: for each open port the
 * run's own scan identified, the login mechanism it shows a client that has
 * no credentials — HTTP Basic/Digest realms and HTML forms with a password
 * field (a bounded crawl of same-host links), SSH authentication methods,
 * the MQTT CONNACK to an anonymous CONNECT, a TLS client-certificate demand,
 * a telnet login prompt or a shell. Nothing here guesses a password.
 */
import tls from 'node:tls';
import { MqttClient } from 'mqtt';
import type { ProbeContext } from '../harness/types';
import type { PortRecord } from './ports';
import { probeSshService } from './ssh';
import { httpRequest, urlHost, type HttpResponse } from './util/http';
import { TelnetSession } from './util/telnet';
import { parseChallenge } from './credentials/http-digest';
import { isTodo } from '../harness/device-file/schema';
import { selfSignedCert } from './util/cert';
import { CERT_DEMAND, tlsConnect } from './util/tls-connect';

/** Pages fetched per web port, at most: a crawl of a device's UI, not of the web. */
const MAX_PAGES = 16;
const PAGE_TIMEOUT_MS = 4000;

export interface WebLogin {
  path: string;
  scheme: 'basic' | 'digest' | 'form';
  realm?: string;
  /** For forms: where the form posts and the names of its fields. */
  form?: { action?: string; usernameField?: string; passwordField: string };
}

export interface DiscoveredService {
  port: number;
  transport: 'tcp' | 'udp';
  /** A device-file protocol. */
  protocol: string;
  /** How it was identified (the scan's words). */
  identifiedBy: string;
  /** What a client without credentials was shown. */
  logins: WebLogin[];
  sshMethods?: string[];
  /** MQTT CONNACK return code to an anonymous CONNECT (0: accepted). */
  mqttAnonymous?: number;
  clientCertificate?: 'required';
  /** A shell prompt with no login, or a login prompt (telnet and unknown banners). */
  prompt?: 'login' | 'shell';
  /** HTTP on a plain port that only redirects to HTTPS. */
  redirectsTo?: string;
  notes: string[];
}

/** Same-host links of a page: href, src and form actions that are absolute paths or relative names. */
export function pageLinks(html: string, base: string): string[] {
  const out = new Set<string>();
  for (const m of html.matchAll(/\b(?:href|action|src)\s*=\s*["']([^"'#?]*)[^"']*["']/gi)) {
    const ref = m[1].trim();
    if (!ref || /^[a-z][a-z0-9+.-]*:/i.test(ref) || ref.startsWith('//')) continue;
    const abs = ref.startsWith('/') ? ref : base.replace(/[^/]*$/, '') + ref;
    if (/\.(css|js|png|jpe?g|gif|svg|ico|woff2?)$/i.test(abs)) continue;
    out.add(abs.replace(/\/\.\//g, '/'));
  }
  return [...out];
}

/** A form field name as a device file can carry it. */
const FIELD = /^[A-Za-z0-9_.:[\]-]{1,64}$/;
/** An absolute path on the same host: no scheme, no "//host", printable ASCII only (no spaces or control characters). */
const SAME_HOST_PATH = /^\/(?!\/)[\x21-\x7e]*$/;

/** HTML forms with a password field: the field names, and where they post. */
export function passwordForms(html: string): Array<NonNullable<WebLogin['form']>> {
  const forms: Array<NonNullable<WebLogin['form']>> = [];
  for (const f of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const inputs = [...f[2].matchAll(/<input\b([^>]*)>/gi)].map((i) => ({
      type: /\btype\s*=\s*["']?([a-z]+)/i.exec(i[1])?.[1].toLowerCase() ?? 'text',
      name: /\bname\s*=\s*["']?([^"'\s>]+)/i.exec(i[1])?.[1],
    }));
    const pw = inputs.find((i) => i.type === 'password' && i.name);
    if (!pw?.name) continue;
    const user = inputs.find((i) => ['text', 'email'].includes(i.type) && i.name && FIELD.test(i.name) && !isTodo(i.name));
    // The device wrote these: a field name the draft could not carry (or that reads as a placeholder) drops the form.
    if (!FIELD.test(pw.name) || isTodo(pw.name)) continue;
    const action = /\baction\s*=\s*["']([^"']*)["']/i.exec(f[1])?.[1];
    forms.push({ action: action !== undefined && SAME_HOST_PATH.test(action) ? action : undefined, usernameField: user?.name, passwordField: pw.name });
  }
  return forms;
}

async function crawl(ctx: ProbeContext, port: number, isTls: boolean, s: DiscoveredService): Promise<void> {
  const queue = ['/'];
  const seen = new Set<string>();
  while (queue.length > 0 && seen.size < MAX_PAGES && !ctx.signal.aborted) {
    const p = queue.shift()!;
    if (seen.has(p)) continue;
    seen.add(p);
    let res: HttpResponse;
    try {
      res = await httpRequest(ctx, { port, tls: isTls, path: p, timeoutMs: PAGE_TIMEOUT_MS, maxBytes: 256 * 1024 });
    } catch (err) {
      s.notes.push(`GET ${p}: ${(err as Error).message}`);
      continue;
    }
    const challenge = String(res.headers['www-authenticate'] ?? '');
    if (res.status === 401 && /^basic/i.test(challenge)) s.logins.push({ path: p, scheme: 'basic', realm: /realm="([^"]*)"/i.exec(challenge)?.[1] });
    else if (res.status === 401 && parseChallenge(challenge)) s.logins.push({ path: p, scheme: 'digest', realm: parseChallenge(challenge)?.realm });
    else if (res.status === 401) s.notes.push(`GET ${p}: 401 with an unknown challenge ${JSON.stringify(challenge.slice(0, 60))}`);
    const location = res.headers.location;
    if (res.status >= 300 && res.status < 400 && location) {
      if (p === '/' && /^https:/i.test(location)) s.redirectsTo = location;
      try {
        const u = new URL(location, `http://${urlHost(ctx.connector.host)}:${port}${p}`);
        if (u.hostname.replace(/^\[|\]$/g, '') === ctx.connector.host && (u.port === '' || Number(u.port) === port)) queue.push(u.pathname);
      } catch {
        /* a Location that is no URL: nothing to follow */
      }
    }
    if (res.status >= 200 && res.status < 300) {
      const html = res.body.toString('utf8');
      for (const form of passwordForms(html)) {
        const login: WebLogin = { path: form.action ?? p, scheme: 'form', form };
        if (!s.logins.some((l) => l.scheme === 'form' && l.path === login.path && l.form?.passwordField === form.passwordField)) s.logins.push(login);
      }
      for (const link of pageLinks(html, p)) if (!seen.has(link)) queue.push(link);
    }
  }
  if (seen.size >= MAX_PAGES && queue.length > 0) s.notes.push(`crawl stopped at ${MAX_PAGES} pages; logins further in are not listed`);
}

/** Whether the service refuses clients without a certificate: refused without one, and told apart by the answer to a throwaway one. */
async function clientCertDemand(ctx: ProbeContext, port: number): Promise<{ required: boolean; detail: string; socket?: tls.TLSSocket }> {
  const bare = await tlsConnect(ctx, port);
  if (bare.kind === 'connected') return { required: false, detail: 'handshake without a client certificate', socket: bare.socket };
  if (!CERT_DEMAND.test(bare.code + bare.message)) return { required: false, detail: bare.message };
  const cert = selfSignedCert({ commonName: 'starbench-init-probe', bits: 2048 });
  const withCert = await tlsConnect(ctx, port, cert);
  if (withCert.kind === 'connected') {
    withCert.socket.destroy();
    // Refused with none, accepted with any: the server wants a certificate, but trusts any (a finding for the run).
    return { required: true, detail: 'refused without a client certificate, accepted with a self-signed one' };
  }
  if (/CERTIFICATE_REQUIRED/i.test(bare.code + bare.message) || withCert.code !== bare.code) {
    return { required: true, detail: `without a certificate: ${bare.code}; with an untrusted one: ${withCert.code}` };
  }
  return { required: false, detail: `the handshake fails with or without a certificate (${bare.code})` };
}

/** An anonymous MQTT CONNECT over a stream: the CONNACK return code, or undefined. */
function mqttConnack(stream: NodeJS.ReadWriteStream & { destroy(): void }): Promise<number | undefined> {
  return new Promise((resolve) => {
    let settled = false;
    const client = new MqttClient(() => stream as never, {
      protocolVersion: 4,
      clientId: 'starbench-init',
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 3000,
      keepalive: 0,
    });
    const done = (code: number | undefined): void => {
      if (settled) return;
      settled = true;
      client.end(true);
      stream.destroy();
      resolve(code);
    };
    client.on('connect', () => done(0));
    client.on('error', (err: Error & { code?: number | string }) => done(typeof err.code === 'number' ? err.code : undefined));
    client.on('close', () => done(undefined));
  });
}

function httpResponds(res: HttpResponse | undefined): boolean {
  return res !== undefined && res.status >= 100;
}

/** A telnet server's first prompt, once the option negotiation is answered (bounded). */
async function telnetPrompt(ctx: ProbeContext, port: number): Promise<'login' | 'shell' | undefined> {
  let sock;
  try {
    sock = await ctx.connector.tcp(port, { signal: ctx.signal });
  } catch {
    return undefined;
  }
  const session = new TelnetSession(sock);
  try {
    const m = await session.waitFor(/(login|user ?name|password)\s*:\s*$|[#$] ?$/i, 3000);
    if (!m) return undefined;
    return /[#$] ?$/.test(m[0]) && !/:/.test(m[0]) ? 'shell' : 'login';
  } finally {
    sock.destroy();
  }
}

/** What one open port offers a client without credentials. */
export async function discoverService(ctx: ProbeContext, r: PortRecord): Promise<DiscoveredService> {
  const s: DiscoveredService = { port: r.port, transport: 'tcp', protocol: 'other', identifiedBy: r.identifiedBy ?? 'open', logins: [], notes: [] };
  const service = r.service ?? 'unknown';
  if (service === 'ssh') {
    s.protocol = 'ssh';
    const facts = await probeSshService(ctx, r.port);
    if (facts.authMethods) s.sshMethods = facts.authMethods;
    else s.notes.push(`SSH authentication methods not seen${facts.error ? `: ${facts.error}` : ''}`);
  } else if (service === 'telnet' || service === 'shell') {
    // A raw shell on a TCP port is no telnet service: declared as other, tested as a shell by the run.
    s.protocol = service === 'telnet' ? 'telnet' : 'other';
    const banner = r.banner ?? '';
    s.prompt = service === 'shell' || /[#$] ?$/.test(banner.trimEnd() + ' ') ? 'shell' : /login|user ?name|password/i.test(banner) ? 'login' : undefined;
    if (!s.prompt && service === 'telnet') s.prompt = await telnetPrompt(ctx, r.port);
    if (!s.prompt) s.notes.push('telnet negotiated, no prompt within 3 s');
  } else if (service === 'ftp') {
    s.protocol = 'ftp';
  } else if (service === 'http') {
    s.protocol = 'http';
    await crawl(ctx, r.port, false, s);
  } else if (service === 'mqtt') {
    s.protocol = 'mqtt';
    const code = /return code (\d+)/.exec(r.identifiedBy ?? '')?.[1];
    if (code !== undefined) s.mqttAnonymous = Number(code);
  } else if (service === 'tls') {
    const demand = await clientCertDemand(ctx, r.port);
    if (demand.required) {
      s.clientCertificate = 'required';
      // What runs inside cannot be seen without a certificate the device trusts: TLS, not a guess from the port number.
      s.protocol = 'tls';
      s.notes.push(`TLS client certificate: ${demand.detail}; the protocol inside could not be seen`);
    } else if (demand.socket) {
      demand.socket.destroy();
      let res: HttpResponse | undefined;
      try {
        res = await httpRequest(ctx, { port: r.port, tls: true, path: '/', timeoutMs: PAGE_TIMEOUT_MS, maxBytes: 4096 });
      } catch {
        res = undefined;
      }
      if (httpResponds(res)) {
        s.protocol = 'https';
        await crawl(ctx, r.port, true, s);
      } else {
        const again = await tlsConnect(ctx, r.port);
        const code = again.kind === 'connected' ? await mqttConnack(again.socket) : undefined;
        if (code !== undefined) {
          s.protocol = 'mqtts';
          s.mqttAnonymous = code;
        } else {
          s.protocol = 'tls';
          s.notes.push('TLS, but neither HTTP nor MQTT inside');
        }
      }
    } else {
      s.protocol = 'tls';
      s.notes.push(`TLS handshake failed: ${demand.detail}`);
    }
  } else {
    s.notes.push(`unidentified: ${r.identifiedBy ?? 'no banner'}`);
  }
  return s;
}
