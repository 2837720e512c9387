/** Where to try logins: declared services and auth mechanisms, plus what the scan identified. */
import type { Observation, ProbeContext } from '../../harness/types';
import { openPorts } from '../ports';
import { clientCertificate } from '../util/actions';
import { httpRequest } from '../util/http';
import type { LoginTarget } from './adapter';

const ADAPTER_FOR: Record<string, { adapter: string; tls?: boolean }> = {
  ssh: { adapter: 'ssh' },
  telnet: { adapter: 'telnet' },
  mqtt: { adapter: 'mqtt' },
  mqtts: { adapter: 'mqtt', tls: true },
  ftp: { adapter: 'ftp' },
};
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
function clientCertFor(ctx: ProbeContext, t: Omit<LoginTarget, 'lockout'>): Pick<LoginTarget, 'clientCert'> {
  if (t.adapter !== 'mqtt' || !t.tls) return {};
  // Declared certificate-only: guess as someone without one would (the proof of no password login runs first).
  if (ctx.device.auth.some((a) => a.port === t.port && a.scheme === 'client-certificate')) return {};
  for (const a of ctx.device.auth.filter((x) => x.port === t.port && x.credential)) {
    const cert = clientCertificate(ctx.device.credentials[a.credential!]);
    if (cert) return { clientCert: cert };
  }
  return {};
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
  for (const w of web) {
    try {
      const res = await httpRequest(ctx, { port: w.port, tls: w.tls, path: w.path, maxBytes: 4096 });
      const challenge = String(res.headers['www-authenticate'] ?? '');
      const scheme = res.status === 401 ? challenge.match(/^(basic|digest)\b/i)?.[1].toLowerCase() : undefined;
      if (scheme)
        add({
          adapter: `http-${scheme}`,
          protocol: w.protocol,
          port: w.port,
          path: w.path,
          tls: w.tls,
          source: w.declared ? 'declared auth mechanism' : `declared service answering 401 ${scheme}`,
        });
      else if (w.declared) {
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
