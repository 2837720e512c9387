/**
 * credentials: tries the Mirai dictionary on every password login it can
 * reach (declared SSH/HTTP Basic logins and SSH services the scan found),
 * stopping at the first success per service, within a budget, and under the
 * declared lockout so the lab account is never locked.
 */
import type { Observation, Probe, ProbeContext } from '../../harness/types';
import { maskPassword } from '../../harness/secrets';
import type { PortRecord } from '../ports';
import { httpRequest } from '../util/http';
import type { LoginAdapter, LoginTarget } from './adapter';
import { miraiList, type DictionaryEntry } from './dictionary';
import { httpBasicLogin } from './http-basic';
import { sshLogin } from './ssh';

const ADAPTERS: Record<string, LoginAdapter> = { ssh: sshLogin, 'http-basic': httpBasicLogin };
// Logins on these protocols exist on real devices but have no adapter yet;
// they are reported so a pass is never claimed over them.
const NOT_COVERED = new Set(['telnet', 'ftp', 'mqtt', 'mqtts', 'rtsp', 'shell']);
const MAX_CONSECUTIVE_ERRORS = 5;

function openPorts(ctx: ProbeContext): PortRecord[] {
  const scan = ctx.dependency('tcp-ports');
  return (scan?.observations ?? []).filter((o) => o.kind === 'tcp-port').map((o) => o.data as unknown as PortRecord).filter((r) => r.state === 'open');
}

function lockoutBudget(ctx: ProbeContext, port: number): number | undefined {
  const a = ctx.device.auth.find((x) => x.port === port && x.bruteForce === 'lockout' && x.lockoutAfter !== undefined);
  return a?.lockoutAfter !== undefined ? Math.max(0, a.lockoutAfter - 1) : undefined;
}

async function findTargets(ctx: ProbeContext, open: PortRecord[]): Promise<{ targets: LoginTarget[]; notes: Observation[] }> {
  const targets: LoginTarget[] = [];
  const notes: Observation[] = [];
  const openSet = new Map(open.map((r) => [r.port, r]));
  const add = (t: LoginTarget): void => {
    if (!targets.some((x) => x.port === t.port && x.scheme === t.scheme && x.path === t.path)) targets.push({ ...t, maxAttempts: lockoutBudget(ctx, t.port) });
  };
  for (const s of ctx.device.services) {
    if (s.protocol === 'ssh' && s.transport === 'tcp') add({ protocol: 'ssh', port: s.port, scheme: 'password', source: 'declared service' });
  }
  for (const r of open) if (r.service === 'ssh') add({ protocol: 'ssh', port: r.port, scheme: 'password', source: `discovered (${r.identifiedBy})` });

  const web: LoginTarget[] = ctx.device.auth
    .filter((a) => a.scheme === 'basic')
    .map((a) => ({ protocol: a.protocol, port: a.port, path: a.path ?? '/', tls: a.protocol === 'https', scheme: 'basic', source: 'declared auth mechanism' }));
  for (const s of ctx.device.services) {
    if ((s.protocol === 'http' || s.protocol === 'https') && !web.some((w) => w.port === s.port)) {
      web.push({ protocol: s.protocol, port: s.port, path: '/', tls: s.protocol === 'https', scheme: 'basic', source: 'declared service answering 401 Basic' });
    }
  }
  for (const w of web) {
    try {
      const res = await httpRequest(ctx, { port: w.port, tls: w.tls, path: w.path, maxBytes: 4096 });
      const challenge = String(res.headers['www-authenticate'] ?? '');
      if (res.status === 401 && /^basic/i.test(challenge)) add({ ...w, protocol: 'http-basic' });
      else if (w.source === 'declared auth mechanism') {
        notes.push({ kind: 'login-baseline', port: w.port, protocol: w.protocol, summary: `${w.protocol} ${w.port} ${w.path}: declared Basic login answered HTTP ${res.status} without credentials`, data: { path: w.path, status: res.status, challenge } });
      }
    } catch (err) {
      if (w.source === 'declared auth mechanism') {
        notes.push({ kind: 'login-unreachable', port: w.port, protocol: w.protocol, summary: `${w.protocol} ${w.port} ${w.path}: ${(err as Error).message}`, data: { path: w.path, error: (err as Error).message } });
      }
    }
  }
  const covered = new Set(targets.map((t) => t.port));
  const uncovered = new Map<number, string>();
  for (const s of ctx.device.services) if (NOT_COVERED.has(s.protocol) && s.transport === 'tcp' && openSet.has(s.port)) uncovered.set(s.port, s.protocol);
  for (const r of open) if (r.service && NOT_COVERED.has(r.service) && !covered.has(r.port)) uncovered.set(r.port, r.service);
  for (const [port, protocol] of uncovered) {
    notes.push({ kind: 'login-not-covered', port, protocol, summary: `${protocol} on ${port}: no login adapter for ${protocol} yet, default credentials not tried`, data: { protocol } });
  }
  return { targets, notes };
}

async function tryDictionary(ctx: ProbeContext, target: LoginTarget, dictionary: DictionaryEntry[]): Promise<Observation> {
  const adapter = ADAPTERS[target.protocol === 'ssh' ? 'ssh' : 'http-basic'];
  const budget = Math.min(ctx.device.limits.credentialBudget, target.maxAttempts ?? Infinity, dictionary.length);
  const planned = dictionary.slice(0, budget);
  const accepted: Array<Record<string, unknown>> = [];
  let tried = 0;
  let errors = 0;
  let consecutiveErrors = 0;
  let lastError: string | undefined;
  let stop: string | undefined;
  let next = 0;
  // Under a declared lockout every attempt counts: go one at a time so we stop exactly on budget.
  const workers = target.maxAttempts !== undefined ? 1 : ctx.connector.slots.limit;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!stop && next < planned.length && !ctx.signal.aborted) {
        const e = planned[next++];
        const outcome = await adapter.attempt(ctx, target, e.username, e.password);
        if (ctx.signal.aborted) break;
        tried += 1;
        if (outcome.kind === 'accepted') {
          accepted.push({ list: e.list, entry: e.entry, username: e.username, password: maskPassword(e.password, ctx.secrets.reveal) });
          stop = 'accepted';
          consecutiveErrors = 0;
        } else if (outcome.kind === 'error') {
          errors += 1;
          consecutiveErrors += 1;
          lastError = outcome.detail;
          if (consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) stop = 'errors';
        } else consecutiveErrors = 0;
      }
    }),
  );
  if (ctx.signal.aborted && !stop) stop = 'aborted';
  const complete = stop === undefined && tried === dictionary.length && errors === 0;
  const stopReason = stop ?? (planned.length < dictionary.length ? (target.maxAttempts !== undefined ? 'lockout-budget' : 'budget') : errors > 0 ? 'errors' : 'exhausted');
  const label = `${target.protocol} ${target.port}${target.path ? ` ${target.path}` : ''}`;
  return {
    kind: 'login-attempts',
    port: target.port,
    protocol: target.protocol,
    summary: accepted.length
      ? `${label}: accepted ${accepted[0].username} (${accepted[0].list} list entry ${accepted[0].entry}) after ${tried} attempts`
      : `${label}: ${tried} of ${dictionary.length} entries tried, none accepted (${stopReason}${errors ? `, ${errors} errors` : ''})`,
    data: {
      ...target,
      list: 'Mirai',
      listSize: dictionary.length,
      planned: planned.length,
      tried,
      errors,
      lastError,
      accepted,
      complete,
      stopReason,
    },
  };
}

export const credentialsProbe: Probe = {
  id: 'credentials',
  title: 'Default and weak credentials (Mirai list) on SSH and HTTP Basic',
  needs: ['host'],
  dependsOn: ['tcp-ports'],
  clauses: ['EN 303 645 5.1-1', 'TS 103 701 5.1-1-2', 'JC-STAR S1.1-02'],
  async run(ctx) {
    const dictionary = miraiList();
    const { targets, notes } = await findTargets(ctx, openPorts(ctx));
    const observations: Observation[] = [...notes];
    for (const t of targets) {
      ctx.progress(`trying ${dictionary.length} credentials on ${t.protocol} ${t.port}`);
      observations.push(await tryDictionary(ctx, t, dictionary));
    }
    return { observations };
  },
};
