/** Where to try logins: declared services and auth mechanisms, plus what the scan identified. */
import type { Observation, ProbeContext } from '../../harness/types';
import { openPorts } from '../ports';
import { declaredCertificateOnly, labClientCert } from '../util/client-cert';
import { ADAPTER_FOR } from './adapters';
import { httpRequest, urlHost, type HttpResponse } from '../util/http';
import { passwordForms } from '../discover';
import { cookiesOf } from './http-form';
import type { LoginTarget } from './adapter';

// Logins on these protocols exist on real devices but have no adapter yet;
// they are reported so a pass is never claimed over them.
const NOT_COVERED = new Set(['ftps', 'rtsp']);

function lockoutFor(ctx: ProbeContext, port: number): LoginTarget['lockout'] {
  const a = ctx.device.auth.find((x) => x.port === port && x.bruteForce === 'lockout' && x.lockoutAfter !== undefined);
  if (!a?.lockoutAfter) return undefined;
  const cred = a.credential ? ctx.device.credentials[a.credential] : undefined;
  return {
    after: a.lockoutAfter,
    seconds: a.lockoutSeconds,
    reset: cred?.password !== undefined ? { username: cred.username, password: cred.password } : undefined,
  };
}

/** A broker that requires a TLS client certificate is reached with the lab's (auth[].credential with certificate/key). */
export function clientCertFor(ctx: ProbeContext, t: Omit<LoginTarget, 'lockout'>): Pick<LoginTarget, 'clientCert'> {
  if (t.adapter !== 'mqtt' || !t.tls) return {};
  // Declared certificate-only: guess as someone without one would (the proof of no password login runs first).
  if (declaredCertificateOnly(ctx.device, t.port)) return {};
  const cert = labClientCert(ctx.device, t.port);
  return cert ? { clientCert: cert } : {};
}

/** The lab credential of any login declared on a port, for proving a discovered login. */
function labFor(ctx: ProbeContext, port: number): { username: string; password: string } | undefined {
  for (const a of ctx.device.auth.filter((x) => x.port === port && x.credential)) {
    const cred = ctx.device.credentials[a.credential!];
    if (cred?.password !== undefined) return { username: cred.username, password: cred.password };
  }
  return undefined;
}

const MAX_HOPS = 5;

/** A redirect to this device on another web port that is itself looked at (http → https): the login there is tried there. */
function coveredElsewhere(location: string, host: string, webPorts: number[]): boolean {
  try {
    const u = new URL(location);
    const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    return u.hostname.replace(/^\[|\]$/g, '') === host && webPorts.includes(port);
  } catch {
    return false;
  }
}

/** GET a path, following redirects that stay on the device (bounded), with the cookies they set. */
async function followSameHost(ctx: ProbeContext, port: number, isTls: boolean, start: string): Promise<{ res: HttpResponse; path: string; from?: string }> {
  let path = start;
  const jar = new Map<string, string>();
  for (let hop = 0; ; hop++) {
    const res = await httpRequest(ctx, {
      port,
      tls: isTls,
      path,
      maxBytes: 64 * 1024,
      headers: jar.size ? { Cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } : {},
    });
    cookiesOf(res, jar);
    const next = res.status >= 300 && res.status < 400 ? sameHostPath(String(res.headers.location ?? ''), path, ctx.connector.host, port) : undefined;
    if (!next || hop >= MAX_HOPS || next === path) return { res, path, from: path === start ? undefined : start };
    path = next;
  }
}

/** A Location on the same device (relative, or absolute with the device's host and this port) as a path; else undefined. */
function sameHostPath(location: string, base: string, host: string, port: number): string | undefined {
  try {
    const u = new URL(location, `http://${urlHost(host)}:${port}${base}`);
    const sameHost = u.hostname.replace(/^\[|\]$/g, '') === host && Number(u.port || (u.protocol === 'https:' ? 443 : 80)) === port;
    return sameHost ? `${u.pathname}${u.search}` : undefined;
  } catch {
    return undefined;
  }
}

export async function findTargets(ctx: ProbeContext): Promise<{ targets: LoginTarget[]; notes: Observation[] }> {
  const open = openPorts(ctx);
  const openSet = new Map(open.map((r) => [r.port, r]));
  const targets: LoginTarget[] = [];
  const notes: Observation[] = [];
  const add = (t: Omit<LoginTarget, 'lockout'>): void => {
    if (!targets.some((x) => x.port === t.port && x.adapter === t.adapter && x.path === t.path))
      targets.push({ ...t, lockout: lockoutFor(ctx, t.port), ...clientCertFor(ctx, t) });
  };
  for (const s of ctx.device.services) {
    const a = ADAPTER_FOR[s.protocol];
    if (a && s.transport === 'tcp') add({ ...a, protocol: s.protocol, port: s.port, source: 'declared service' });
  }
  for (const r of open) {
    if (r.service === 'ssh' || r.service === 'telnet' || r.service === 'ftp')
      add({ adapter: r.service, protocol: r.service, port: r.port, source: `discovered (${r.identifiedBy})` });
  }

  for (const a of ctx.device.auth.filter((x) => x.scheme === 'form' && x.form)) {
    const cred = a.credential ? ctx.device.credentials[a.credential] : undefined;
    const lab = cred?.password !== undefined ? { username: cred.username, password: cred.password } : undefined;
    targets.push({
      adapter: 'http-form',
      protocol: a.protocol,
      port: a.port,
      path: a.path ?? '/',
      tls: a.protocol === 'https',
      source: 'declared form login',
      form: { ...a.form!, lab },
      lockout: lockoutFor(ctx, a.port),
    });
  }
  const web = ctx.device.auth
    .filter((a) => a.scheme === 'basic' || a.scheme === 'digest')
    .map((a) => ({ protocol: a.protocol, port: a.port, path: a.path ?? '/', tls: a.protocol === 'https', declared: true }));
  for (const s of ctx.device.services) {
    if ((s.protocol === 'http' || s.protocol === 'https') && !web.some((w) => w.port === s.port))
      web.push({ protocol: s.protocol, port: s.port, path: '/', tls: s.protocol === 'https', declared: false });
  }
  // Web ports the scan found that the device file does not declare: a login there is a login like any other.
  for (const r of open) {
    if ((r.service === 'http' || r.service === 'https') && !web.some((w) => w.port === r.port))
      web.push({ protocol: r.service, port: r.port, path: '/', tls: r.service === 'https', declared: false });
  }
  for (const w of web) {
    try {
      // Same-host redirects are followed (bounded): a login reached through one is a login like any other.
      const { res, path: at, from } = await followSameHost(ctx, w.port, w.tls, w.path);
      const challenge = String(res.headers['www-authenticate'] ?? '');
      const scheme = res.status === 401 ? challenge.match(/^(basic|digest)\b/i)?.[1].toLowerCase() : undefined;
      const forms = res.status === 200 ? passwordForms(res.body.toString('latin1')) : [];
      if (scheme)
        add({
          adapter: `http-${scheme}`,
          protocol: w.protocol,
          port: w.port,
          path: at,
          tls: w.tls,
          source:
            w.declared && at === w.path ? 'declared auth mechanism' : `discovered: ${at} answers 401 ${scheme}${from ? ` (redirected from ${from})` : ''}`,
        });
      // A port whose form login the device file declares is tried as declared, not guessed at again.
      else if (forms.length > 0 && !ctx.device.auth.some((a) => a.port === w.port && a.scheme === 'form')) {
        // A login form the device file does not declare, on the page asked or behind a redirect from it: guess on it,
        // an entry counting as accepted only when that page opens with the session the login set.
        const lab = labFor(ctx, w.port);
        for (const f of forms.filter((x) => x.usernameField)) {
          const path = f.action ?? at;
          if (targets.some((t) => t.adapter === 'http-form' && t.port === w.port && t.path === path)) continue;
          targets.push({
            adapter: 'http-form',
            protocol: w.protocol,
            port: w.port,
            path,
            tls: w.tls,
            source: `discovered form login at ${at}${from ? ` (redirected from ${from})` : ''}`,
            form: { usernameField: f.usernameField!, passwordField: f.passwordField, protectedPath: from ?? at, lab },
            lockout: lockoutFor(ctx, w.port),
          });
        }
      } else if (
        res.status >= 300 &&
        res.status < 400 &&
        !coveredElsewhere(
          String(res.headers.location ?? ''),
          ctx.connector.host,
          web.map((x) => x.port),
        )
      ) {
        // A redirect loop, too many hops, or a redirect off this host and port: whether a login is behind it is not known.
        notes.push({
          kind: 'login-unreachable',
          port: w.port,
          protocol: w.protocol,
          summary: `${w.protocol} ${w.port} ${w.path}: redirects (HTTP ${res.status} to ${String(res.headers.location ?? 'nowhere')}) that starbench does not follow; a login behind them was not tried`,
          data: { path: w.path, error: `unfollowed redirect to ${String(res.headers.location ?? '')}` },
        });
      } else if (w.declared) {
        notes.push({
          kind: 'login-baseline',
          port: w.port,
          protocol: w.protocol,
          summary: `${w.protocol} ${w.port} ${w.path}: declared web login answered HTTP ${res.status} without credentials`,
          data: { path: w.path, status: res.status, challenge },
        });
      }
    } catch (err) {
      if (w.declared)
        notes.push({
          kind: 'login-unreachable',
          port: w.port,
          protocol: w.protocol,
          summary: `${w.protocol} ${w.port} ${w.path}: ${(err as Error).message}`,
          data: { path: w.path, error: (err as Error).message },
        });
    }
  }
  const covered = new Set(targets.map((t) => t.port));
  const uncovered = new Map<number, string>();
  for (const s of ctx.device.services) if (NOT_COVERED.has(s.protocol) && s.transport === 'tcp' && openSet.has(s.port)) uncovered.set(s.port, s.protocol);
  for (const r of open) if (r.service && NOT_COVERED.has(r.service) && !covered.has(r.port)) uncovered.set(r.port, r.service);
  for (const [port, protocol] of uncovered) {
    notes.push({
      kind: 'login-not-covered',
      port,
      protocol,
      summary: `${protocol} on ${port}: no login adapter for ${protocol} yet, default credentials not tried`,
      data: { protocol },
    });
  }
  return { targets, notes };
}
