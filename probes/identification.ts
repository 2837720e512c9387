/**
 * identification: where the device tells its user what it is. The declared
 * model (and firmware version) is looked for where a person would read it:
 * the web UI's pages (the landing page, its redirects, the login prompt's
 * realm, the admin page with the lab credential), what services say first
 * (SSH, telnet, FTP banners), the SNMP system group, the UPnP device
 * description the device points at from SSDP, and its mDNS records. Every
 * place that could not be read is recorded as such: "not seen" is only worth
 * what was actually read.
 */
import { randomBytes } from 'node:crypto';
import dnsPacket from 'dns-packet';
import { XMLParser } from 'fast-xml-parser';
import snmp from 'net-snmp';
import { z } from 'zod';
import { defineFact, factsOf } from '../harness/facts';
import { mapLimit } from '../harness/limiter';
import type { Action } from '../harness/device-file/schema';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { openPorts } from './ports';
import { UDP_DEFAULTS, UdpPortFact } from './udp';
import { printable } from './util/banner';
import { httpRequest, urlHost, type HttpResponse } from './util/http';
import { runAction } from './util/actions';
import { askSnmp, labCommunity, SNMP_LIMITS } from './util/snmp-walk';

export const IDENTITY_CHANNELS = ['web', 'banner', 'snmp', 'upnp', 'mdns'] as const;

/** The declared model or firmware version, seen in one place: where, and the words around it. */
export const IdentitySeenFact = defineFact(
  'identity-seen',
  z.object({ what: z.enum(['model', 'firmware']), channel: z.enum(IDENTITY_CHANNELS), where: z.string(), context: z.string() }),
);
export type IdentitySeen = z.infer<typeof IdentitySeenFact.schema>;

/** One place looked at: read (and what it starts with), or why it could not be. */
export const IdentitySourceFact = defineFact(
  'identity-source',
  z.object({ channel: z.enum(IDENTITY_CHANNELS), where: z.string(), read: z.boolean(), excerpt: z.string().optional(), error: z.string().optional() }),
  (s) => (s.read ? null : `${s.where}: ${s.error ?? 'not read'}`),
);
export type IdentitySource = z.infer<typeof IdentitySourceFact.schema>;

/** What was looked for and how many places were read. */
export const IdentityScanFact = defineFact(
  'identity-scan',
  z.object({ model: z.string().optional(), firmware: z.string().optional(), looked: z.number().int(), read: z.number().int() }),
);

/** Fewer letters and digits than this and a model name matches too much to mean anything. */
export const MIN_MODEL_CHARS = 3;
const HTTP_HOPS = 3;
const PAGE_BYTES = 128 * 1024;
const CONTEXT = 40;
/** The most of one page searched (the admin page may be 256 KiB). */
const MAX_TEXT = 256 * 1024;
/** Service types asked for their instances over mDNS, at most. */
const MDNS_TYPES = 6;

/**
 * The declared model as a person would recognise it: case-insensitive, its
 * parts joined by a space, hyphen, underscore, dot or slash or by nothing
 * ("SB-CAM-Q", "sb cam q", "SBCAMQ"), and not part of a longer name.
 */
export function modelPattern(model: string): RegExp | null {
  const parts = model.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  if (parts.join('').length < MIN_MODEL_CHARS) return null;
  // One word alone must look like a model number (letters and digits), or be long: "Pro", "Mini", "100" match too much.
  if (parts.length === 1 && !(/\p{L}/u.test(parts[0]) && /\p{N}/u.test(parts[0])) && parts[0].length < 5) return null;
  const esc = parts.map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // Not inside a longer name, nor followed by a variant suffix ("SB-CAM-X-Pro", "SB-CAM-X/2"); an underscore may follow
  // (an SSH identification "SSH-2.0-SB-CAM-X_sshd").
  return new RegExp(`(?<![\\p{L}\\p{N}])${esc.join('[\\s._/-]?')}(?![\\p{L}\\p{N}]|[-/][\\p{L}\\p{N}])`, 'iu');
}

/** The declared firmware version, not as part of a longer one (1.2.3 is not in 1.2.30 or 11.2.3). */
export function firmwarePattern(version: string): RegExp | null {
  const v = version.trim();
  if (v.length < 2) return null;
  return new RegExp(`(?<![\\p{L}\\p{N}.])v?${v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{N}]|\\.[\\p{N}])`, 'iu');
}

/**
 * The text a person sees on a page: no scripts, styles, comments or tags, entities decoded, whitespace folded. One
 * pass with indexOf (no backtracking regex: a page of unclosed "<" must not stall the run), on at most MAX_TEXT.
 */
export function visibleText(html: string): string {
  const src = html.length > MAX_TEXT ? html.slice(0, MAX_TEXT) : html;
  const lower = src.toLowerCase();
  const out: string[] = [];
  let i = 0;
  while (i < src.length) {
    const lt = src.indexOf('<', i);
    if (lt < 0) {
      out.push(src.slice(i));
      break;
    }
    out.push(src.slice(i, lt), ' ');
    if (src.startsWith('<!--', lt)) {
      const end = src.indexOf('-->', lt + 4);
      i = end < 0 ? src.length : end + 3;
      continue;
    }
    const gt = src.indexOf('>', lt + 1);
    if (gt < 0) break;
    const raw = /^<(script|style)\b/i.exec(src.slice(lt, lt + 8));
    if (raw) {
      const close = lower.indexOf(`</${raw[1].toLowerCase()}`, gt);
      const after = close < 0 ? -1 : src.indexOf('>', close);
      i = after < 0 ? src.length : after + 1;
      continue;
    }
    i = gt + 1;
  }
  return decodeEntities(out.join('')).replace(/\s+/g, ' ').trim();
}

function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(n) && n > 0 && n < 0x110000 ? String.fromCodePoint(n) : m;
    }
    return named[e.toLowerCase()] ?? m;
  });
}

function around(text: string, m: RegExpExecArray): string {
  const from = Math.max(0, m.index - CONTEXT);
  const to = Math.min(text.length, m.index + m[0].length + CONTEXT);
  return `${from > 0 ? '…' : ''}${text.slice(from, to).replace(/\s+/g, ' ')}${to < text.length ? '…' : ''}`;
}

/** What one place said, searched for the declared model and firmware. */
interface Looker {
  sources: IdentitySource[];
  seen: IdentitySeen[];
  /** `searched` false: recorded as read, not searched (what the owner names, or no user reads). */
  read(channel: IdentitySource['channel'], where: string, text: string, searched?: boolean): void;
  failed(channel: IdentitySource['channel'], where: string, error: string): void;
}

function looker(model: RegExp | null, firmware: RegExp | null): Looker {
  const l: Looker = {
    sources: [],
    seen: [],
    read(channel, where, text, searched = true) {
      l.sources.push({ channel, where, read: true, excerpt: printable(Buffer.from(text.replace(/\s+/g, ' ').trim(), 'utf8'), 120) });
      if (!searched) return;
      for (const [what, re] of [
        ['model', model],
        ['firmware', firmware],
      ] as const) {
        const m = re?.exec(text);
        if (m) l.seen.push({ what, channel, where, context: printable(Buffer.from(around(text, m), 'utf8'), 2 * CONTEXT + 80) });
      }
    },
    failed(channel, where, error) {
      l.sources.push({ channel, where, read: false, error });
    },
  };
  return l;
}

/** The login prompt's realm, which a browser shows its user (the Server header is for machines, not searched). */
function headerText(res: HttpResponse): string {
  const h = (n: string): string => (Array.isArray(res.headers[n]) ? (res.headers[n] as string[]).join(', ') : String(res.headers[n] ?? ''));
  const realm = /realm="([^"]*)"/i.exec(h('www-authenticate'))?.[1];
  return realm ? `login prompt: ${realm}` : '';
}

/** The target's own address in a URL: a redirect or a UPnP LOCATION elsewhere is not followed (scope). */
function onTarget(ctx: ProbeContext, url: URL): boolean {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === ctx.connector.host.toLowerCase() || host === ctx.device.target.host6;
}

/** A web page and the redirects it makes on the target (bounded), searched as a person would read them. */
async function webPages(ctx: ProbeContext, l: Looker, port: number, tls: boolean, path: string): Promise<void> {
  let at = { port, tls, path };
  for (let hop = 0; hop <= HTTP_HOPS; hop++) {
    const where = `${at.tls ? 'https' : 'http'} ${at.port} ${at.path}`;
    let res: HttpResponse;
    try {
      res = await httpRequest(ctx, { port: at.port, tls: at.tls, path: at.path, maxBytes: PAGE_BYTES });
    } catch (err) {
      l.failed('web', where, (err as Error).message);
      return;
    }
    l.read('web', `${where} (HTTP ${res.status})`, `${headerText(res)}\n${visibleText(res.body.toString('utf8'))}`);
    const location = res.status >= 300 && res.status < 400 ? String(res.headers.location ?? '') : '';
    if (!location) return;
    let next: URL;
    try {
      next = new URL(location, `${at.tls ? 'https' : 'http'}://${urlHost(ctx.connector.host)}:${at.port}${at.path}`);
    } catch {
      return;
    }
    if (!onTarget(ctx, next) || !/^https?:$/.test(next.protocol)) return;
    const nextTls = next.protocol === 'https:';
    at = { port: Number(next.port || (nextTls ? 443 : 80)), tls: nextTls, path: `${next.pathname}${next.search}` };
  }
}

/** The admin pages behind the lab credential (a model shown only after login is still shown to the user). */
async function loggedInPages(ctx: ProbeContext, l: Looker, httpPorts: Map<number, boolean>): Promise<void> {
  const host = urlHost(ctx.connector.host);
  for (const a of ctx.device.auth) {
    if (!a.path || !a.credential || (a.scheme !== 'basic' && a.scheme !== 'digest') || !httpPorts.has(a.port)) continue;
    const tls = httpPorts.get(a.port) === true;
    const action: Action = { http: { url: `${tls ? 'https' : 'http'}://${host}:${a.port}${a.path}`, method: 'GET', credential: a.credential, auth: a.scheme } };
    const where = `${tls ? 'https' : 'http'} ${a.port} ${a.path} (lab credential "${a.credential}")`;
    const r = await runAction(ctx, 'identification', action);
    if (r.record.ok) l.read('web', where, visibleText(r.text));
    else l.failed('web', where, r.record.error ?? r.record.locked ?? `HTTP ${r.record.status ?? '?'}`);
  }
}

/** The SNMP system group (sysDescr, sysName…), with the lab's community first, then the defaults. */
async function snmpSystem(ctx: ProbeContext, l: Looker, port: number): Promise<void> {
  const community = labCommunity(ctx, port);
  const r = await askSnmp(ctx, port, [...(community ? [community] : []), 'public'], {
    versions: [snmp.Version2c, snmp.Version1],
    limits: { ...SNMP_LIMITS, objects: 10, seconds: 5 },
  });
  const where = `snmp udp/${port} system group`;
  if (!r.answered) return l.failed('snmp', where, r.why);
  // sysDescr only: the maker writes it; sysName, sysContact and sysLocation are what the owner (or the lab) set.
  const text = r.walk.objects.filter((o) => /^1\.3\.6\.1\.2\.1\.1\.1\.0 = /.test(o)).join('\n');
  l.read('snmp', `${where} (community "${r.walk.community === community ? 'lab' : r.walk.community}")`, text);
}

/** UPnP: the M-SEARCH answer's LOCATION, and the device description it points at (UPnP Device Architecture 2.0 §2.3). */
async function upnpDescription(ctx: ProbeContext, l: Looker, port: number): Promise<void> {
  const request = UDP_DEFAULTS[1900].request();
  const r = await ctx.connector.udp(port, request, { signal: ctx.signal });
  if (r.kind !== 'answer') return l.failed('upnp', `ssdp udp/${port}`, `no answer to M-SEARCH (${r.kind})`);
  const answer = r.data.toString('latin1');
  const headers = answer.split(/\r?\n/).filter((h) => /^(server|location|st|usn):/i.test(h));
  l.read('upnp', `ssdp udp/${port} answer`, headers.join('\n'), false);
  const location = /^location:\s*(\S+)/im.exec(answer)?.[1];
  if (!location) return;
  let url: URL;
  try {
    url = new URL(location);
  } catch {
    return l.failed('upnp', `UPnP description ${location.slice(0, 100)}`, 'LOCATION is not a URL');
  }
  if (!onTarget(ctx, url) || !/^https?:$/.test(url.protocol))
    return l.failed('upnp', `UPnP description ${url.href.slice(0, 100)}`, 'LOCATION names another host: not fetched (scope)');
  const tls = url.protocol === 'https:';
  const where = `UPnP description ${url.pathname}`;
  try {
    const res = await httpRequest(ctx, { port: Number(url.port || (tls ? 443 : 80)), tls, path: `${url.pathname}${url.search}`, maxBytes: PAGE_BYTES });
    if (res.status !== 200) return l.failed('upnp', where, `HTTP ${res.status}`);
    const doc = new XMLParser({ ignoreAttributes: true, processEntities: true, htmlEntities: false }).parse(res.body.toString('utf8')) as Record<
      string,
      unknown
    >;
    const device = ((doc.root as Record<string, unknown> | undefined)?.device ?? {}) as Record<string, unknown>;
    // What the maker writes; friendlyName is the name the owner gives the device.
    const fields = ['manufacturer', 'modelName', 'modelNumber', 'modelDescription'];
    const text = fields
      .filter((f) => typeof device[f] === 'string' || typeof device[f] === 'number')
      .map((f) => `${f}: ${String(device[f])}`)
      .join('\n');
    if (!text) return l.failed('upnp', where, 'not a UPnP device description (no root/device with a model)');
    l.read('upnp', where, text);
  } catch (err) {
    l.failed('upnp', where, (err as Error).message);
  }
}

/**
 * mDNS: the service types the responder listed (udp-services asked for them), each asked for its instances; a
 * responder puts their SRV and TXT records (where makers write model=, fw=) beside the answer (RFC 6763 §12.1).
 */
async function mdnsRecords(ctx: ProbeContext, l: Looker, port: number, listed: string): Promise<void> {
  l.read('mdns', `mdns udp/${port} service types`, listed, false);
  const types = [...new Set([...listed.matchAll(/PTR _services\._dns-sd\._udp\.local (\S+)/g)].map((m) => m[1]))].slice(0, MDNS_TYPES);
  for (const type of types) {
    const query = dnsPacket.encode({ type: 'query', id: randomBytes(2).readUInt16BE(0), flags: 0, questions: [{ type: 'PTR', name: type, class: 'IN' }] });
    const r = await ctx.connector.udp(port, query, { signal: ctx.signal });
    const where = `mdns udp/${port} ${type.slice(0, 60)}`;
    if (r.kind !== 'answer') l.failed('mdns', where, `no answer (${r.kind})`);
    else l.read('mdns', where, txtData(r.data));
  }
}

/** The TXT strings of an mDNS answer (model=, fw= …: what the maker writes); instance names are the owner's and left out. */
function txtData(answer: Buffer): string {
  try {
    const p = dnsPacket.decode(answer);
    return [...(p.answers ?? []), ...(p.additionals ?? [])]
      .filter((r) => r.type === 'TXT')
      .flatMap((r) => {
        const d = (r as { data?: unknown }).data;
        return (Array.isArray(d) ? d : [d]).map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x ?? '')));
      })
      .join('\n')
      .slice(0, 4000);
  } catch {
    return '';
  }
}

export const identificationProbe: Probe = {
  id: 'identification',
  title: 'Where the device shows its model and firmware version (web UI, banners, SNMP, UPnP, mDNS)',
  needs: ['host'],
  facts: [IdentitySeenFact, IdentitySourceFact, IdentityScanFact],
  dependsOn: ['tcp-ports', 'udp-services'],
  clauses: ['JC-STAR S1.1-10', 'EN 303 645 5.3-15', 'EN 303 645 5.3-16'],
  async run(ctx) {
    const model = ctx.device.device.model;
    const firmware = ctx.device.device.firmware;
    const l = looker(model ? modelPattern(model) : null, firmware ? firmwarePattern(firmware) : null);
    const declared = new Map(ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => [s.port, s.protocol]));
    // Web ports: what answered as HTTP, or as TLS where HTTPS is declared; banners: what spoke first.
    const httpPorts = new Map<number, boolean>();
    for (const r of openPorts(ctx)) {
      const decl = declared.get(r.port);
      if (r.service === 'http' || (r.service === 'unknown' && decl === 'http')) httpPorts.set(r.port, false);
      else if (r.service === 'tls' && (decl === 'https' || decl === 'http' || decl === undefined)) httpPorts.set(r.port, true);
      else if (r.banner && ['ssh', 'telnet', 'ftp', 'shell', 'unknown'].includes(r.service ?? 'unknown'))
        l.read('banner', `${r.service ?? 'tcp'} ${r.port} banner`, r.banner);
    }
    const firstPaths = new Map<number, string[]>();
    for (const port of httpPorts.keys())
      firstPaths.set(port, [...new Set(['/', ...ctx.device.auth.filter((a) => a.port === port && a.path).map((a) => a.path as string)])]);
    const pages = [...firstPaths].flatMap(([port, paths]) => paths.map((p) => ({ port, path: p })));
    await mapLimit(pages, ctx.connector.slots.limit, (p) => webPages(ctx, l, p.port, httpPorts.get(p.port) === true, p.path));
    await loggedInPages(ctx, l, httpPorts);
    // UDP: what answered the udp-services probe, and the declared agents (an SNMP agent ignores the "public" that probe asks with).
    const udp = factsOf(ctx.dependency('udp-services'), UdpPortFact).filter((u) => u.state === 'open');
    const udpDeclared = ctx.device.services.filter((s) => s.transport === 'udp');
    const asks = new Map<number, 'snmp' | 'upnp' | 'mdns'>();
    for (const s of udpDeclared)
      if (s.protocol === 'snmp' || s.protocol === 'ssdp' || s.protocol === 'upnp') asks.set(s.port, s.protocol === 'snmp' ? 'snmp' : 'upnp');
    for (const u of udp) {
      if (u.service === 'snmp') asks.set(u.port, 'snmp');
      else if (u.service === 'ssdp') asks.set(u.port, 'upnp');
      else if (u.service === 'mdns') asks.set(u.port, 'mdns');
    }
    for (const [port, channel] of asks) {
      try {
        if (channel === 'snmp') await snmpSystem(ctx, l, port);
        else if (channel === 'upnp') await upnpDescription(ctx, l, port);
        else await mdnsRecords(ctx, l, port, udp.find((u) => u.port === port)?.decoded ?? '');
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        l.failed(channel, `${channel} udp/${port}`, (err as Error).message);
      }
    }
    const observations: Observation[] = [
      ...l.seen.map((s) => ({ kind: IdentitySeenFact.kind, summary: `${s.what} seen in ${s.where}: ${s.context}`, data: { ...s } })),
      ...l.sources.map((s) => ({
        kind: IdentitySourceFact.kind,
        summary: s.read ? `read ${s.where}` : `could not read ${s.where}: ${s.error ?? ''}`,
        data: { ...s },
      })),
      {
        kind: IdentityScanFact.kind,
        summary: `looked for ${model ? `model "${model}"` : 'no model (none declared)'}${firmware ? ` and firmware "${firmware}"` : ''} in ${l.sources.length} places, ${l.sources.filter((s) => s.read).length} read`,
        data: { model, firmware, looked: l.sources.length, read: l.sources.filter((s) => s.read).length },
      },
    ];
    return { observations };
  },
};
