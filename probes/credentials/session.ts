/**
 * The device session: lab-credential controls over the lockout ledger
 * (harness/auth-ledger.ts), shared by every probe that may count as a failed
 * login (credentials, unauthenticated, brute force) and every step that needs
 * the lab credential (update, reset, read-back).
 *
 * - Under a known limit (declared, or learned from a silent lockout) a
 *   failure is only risked when there is room for it; at the limit the lab
 *   login resets the device's counter first.
 * - With no limit known, nothing is assumed: after every CONTROL_EVERY
 *   failures in a group the lab login is tried. Refused where it worked
 *   before is the only proof of a silent lockout: the epoch of failures
 *   since the last good control is marked tainted (each refusal in it is
 *   unknown), the limit is learned, and the lock is waited out.
 * - A lock is detected, not assumed: HTTP 429/423/503 + Retry-After, lock
 *   words, or the silent case above. Waits are bounded and recorded.
 */
import type { AccessWait, LockGroup } from '../../harness/auth-ledger';
import type { AuthDecl } from '../../harness/device-file/schema';
import type { ProbeContext } from '../../harness/types';
import { clientCertificate } from '../util/client-cert';
import type { AttemptOutcome, LoginTarget } from './adapter';
import { ADAPTER_FOR, ADAPTERS } from './adapters';
import { sleepUnlessAborted } from '../util/sleep';

/** Failures in a group, with no limit known, after which the lab login is tried. */
export const CONTROL_EVERY = 3;
/** Polling the lab credential while waiting out a lock: from 1 s, doubling, at most every 15 s. */
const MIN_POLL_MS = 1000;
const MAX_POLL_MS = 15_000;
const POLL_MS = MAX_POLL_MS;
/** The longest starbench waits for one lock to clear when the device gave no time. */
const DEFAULT_WAIT_S = 120;
const MAX_WAIT_S = 300;

/** The longest one wait for a lockout to clear can take on this device (for probe timeouts). */
export function lockWaitMs(device: Pick<ProbeContext['device'], 'auth'>): number {
  const own = Math.max(0, ...device.auth.map((a) => a.lockoutSeconds ?? 0)) || DEFAULT_WAIT_S;
  return Math.min(MAX_WAIT_S, own + Math.min(30, Math.max(5, own))) * 1000 + POLL_MS;
}

export interface LabLogin {
  target: LoginTarget;
  username: string;
  password: string;
}

/** The login target of a declared auth mechanism that takes a password, or undefined. */
export function targetOfAuth(ctx: Pick<ProbeContext, 'device'>, a: AuthDecl): LoginTarget | undefined {
  const cred = a.credential ? ctx.device.credentials[a.credential] : undefined;
  const tls = a.protocol === 'https' || a.protocol === 'mqtts';
  const base = { protocol: a.protocol, port: a.port, tls, source: 'declared auth mechanism' };
  if (a.scheme === 'basic' || a.scheme === 'digest') return { ...base, adapter: `http-${a.scheme}`, path: a.path ?? '/' };
  if (a.scheme === 'form' && a.form) {
    const lab = cred?.password !== undefined ? { username: cred.username, password: cred.password } : undefined;
    return { ...base, adapter: 'http-form', path: a.path ?? '/', form: { ...a.form, lab }, source: 'declared form login' };
  }
  if (a.scheme === 'password' || a.scheme === 'keyboard-interactive') {
    const by = ADAPTER_FOR[a.protocol];
    if (!by) return undefined;
    const cert = by.adapter === 'mqtt' && by.tls ? clientCertificate(cred) : undefined;
    return { ...base, ...by, ...(cert ? { clientCert: cert } : {}) };
  }
  return undefined;
}

/** The lab login that controls a port's group: the port's own declared login first, else any in the group. */
export function labLoginFor(ctx: Pick<ProbeContext, 'device' | 'auth'>, port: number): LabLogin | undefined {
  const group = ctx.auth.groupOf(port);
  const candidates = ctx.device.auth
    .filter((a) => a.port === port || ctx.auth.groupOf(a.port) === group)
    .sort((a, b) => Number(b.port === port) - Number(a.port === port));
  for (const a of candidates) {
    const cred = a.credential ? ctx.device.credentials[a.credential] : undefined;
    if (cred?.password === undefined) continue;
    const target = targetOfAuth(ctx, a);
    if (target) return { target, username: cred.username, password: cred.password };
  }
  return undefined;
}

export type ControlResult = 'accepted' | 'refused' | 'locked' | 'unknown' | 'none';

/** Record a lock signal the device sent on a port. */
export function noteLock(ctx: ProbeContext, port: number, o: { detail: string; retryAfterS?: number }): void {
  ctx.auth.groupOf(port).signalled({ at: new Date().toISOString(), port, detail: o.detail, retryAfterS: o.retryAfterS }, DEFAULT_WAIT_S);
}

/** One lab login on the port's group: accepted resets the group's counter; refused where it worked before is a silent lock. */
export async function labControl(ctx: ProbeContext, port: number): Promise<{ result: ControlResult; detail: string }> {
  const lab = labLoginFor(ctx, port);
  if (!lab) return { result: 'none', detail: 'no lab credential declared for this group' };
  const group = ctx.auth.groupOf(port);
  group.controls += 1;
  const o: AttemptOutcome = await ADAPTERS[lab.target.adapter].attempt(ctx, lab.target, lab.username, lab.password);
  const where = `${lab.target.protocol} ${lab.target.port}${lab.target.path ? ` ${lab.target.path}` : ''}`;
  if (o.kind === 'accepted') {
    group.good();
    return { result: 'accepted', detail: `lab login on ${where}` };
  }
  if (o.kind === 'locked') {
    noteLock(ctx, lab.target.port, o);
    return { result: 'locked', detail: `lab login on ${where}: ${o.detail}` };
  }
  if (o.kind === 'rejected' || o.kind === 'hung-up')
    return { result: 'refused', detail: `lab login on ${where} ${o.kind === 'rejected' ? 'refused' : 'hung up'} (${o.detail})` };
  return { result: 'unknown', detail: `lab login on ${where}: ${o.kind}${'detail' in o && o.detail ? ` (${o.detail})` : ''}` };
}

/** Run `fn` as the group's gate: every attempt in the group waits for it. */
async function gated<T>(group: LockGroup, fn: () => Promise<T>): Promise<T> {
  const p = fn();
  group.gate = p;
  try {
    return await p;
  } finally {
    if (group.gate === p) group.gate = undefined;
  }
}

/**
 * Wait until the lab credential works again: first until the time the
 * device gave (Retry-After, the declared lockoutSeconds), then polling the
 * lab login, bounded. Recorded in the ledger with who chose the time.
 */
export async function waitForAccess(ctx: ProbeContext, port: number, purpose: string, why: string): Promise<AccessWait> {
  const group = ctx.auth.groupOf(port);
  const started = Date.now();
  const signalled = group.lockedUntil !== undefined && group.lockedUntil > started;
  // The device's own time, plus a margin in proportion (5-30 s): a lock rarely clears to the second.
  const own = signalled ? Math.ceil((group.lockedUntil! - started) / 1000) : (group.declared?.seconds ?? DEFAULT_WAIT_S);
  const boundS = Math.min(MAX_WAIT_S, own + Math.min(30, Math.max(5, own)));
  const deadline = started + boundS * 1000;
  let ok = false;
  let last = why;
  ctx.progress(`${purpose}: ${why}; waiting up to ${boundS} s for the lab credential to work again`);
  // Poll with backoff: a short lock is found fast, a long one is not hammered (some devices extend a lock on every try).
  // The first look near the time the last lock took; then from 1 s, doubling.
  let nextMs = group.lastLockMs !== undefined ? Math.max(MIN_POLL_MS, Math.round(group.lastLockMs * 0.9)) : MIN_POLL_MS;
  let pollMs = MIN_POLL_MS;
  while (!ctx.signal.aborted && Date.now() < deadline) {
    const until = group.lockedUntil ?? 0;
    await sleepUnlessAborted(ctx.signal, Math.max(nextMs, Math.min(until - Date.now(), deadline - Date.now())));
    nextMs = pollMs;
    pollMs = Math.min(MAX_POLL_MS, pollMs * 2);
    if (ctx.signal.aborted) break;
    const c = await labControl(ctx, port);
    if (c.result === 'accepted') {
      ok = true;
      break;
    }
    if (c.result === 'none') break;
    last = c.detail;
  }
  if (ok) group.lastLockMs = Date.now() - started;
  const wait: AccessWait = {
    group: group.id,
    port,
    purpose,
    waitedMs: Date.now() - started,
    why: ok ? why : `${why}; still refused after ${Math.round((Date.now() - started) / 1000)} s (${last})`,
    ok,
    signalled,
  };
  ctx.auth.waited(wait);
  return wait;
}

/**
 * Before an attempt that may count as a failure: wait for a control or a
 * lock in progress, and make room under a known limit (the lab login resets
 * the counter). False when there is no room and none can be made: the
 * caller stops guessing rather than lock the device.
 */
export async function roomForFailure(ctx: ProbeContext, port: number): Promise<boolean> {
  const group = ctx.auth.groupOf(port);
  while (group.gate) await group.gate.catch(() => undefined);
  if (group.lockedUntil !== undefined && group.lockedUntil > Date.now()) {
    const w = await gated(group, () => waitForAccess(ctx, port, 'guessing', 'the device signalled a lock'));
    if (!w.ok) return false;
  }
  if (group.room() >= 1) return true;
  const epoch = group.epoch;
  const failuresAtControl = group.failuresSinceGood;
  const c = await gated(group, () => labControl(ctx, port));
  if (c.result === 'accepted') return group.room() >= 1;
  if (c.result === 'none' || c.result === 'unknown') return false;
  // Locked at or under the limit in force: the refusals of this epoch are unknown, and the limit was too high.
  if (c.result === 'locked' || group.labWorked) {
    group.tainted.add(epoch);
    group.learnedAfter = Math.max(2, Math.min(group.learnedAfter ?? Infinity, failuresAtControl));
  }
  const w = await gated(group, () => waitForAccess(ctx, port, 'guessing', `at the lockout limit, ${c.detail}`));
  return w.ok && group.room() >= 1;
}

/**
 * After a failure was counted (a wrong password, a credential-less request
 * refused): with no limit known, every CONTROL_EVERY failures the lab login
 * shows whether the device is still judging. Refused where it worked before
 * → a silent lockout: the epoch is tainted, the limit learned, the lock
 * waited out. Returns the epoch found locked, if any.
 */
export async function controlIfDue(ctx: ProbeContext, port: number): Promise<{ lockedEpoch?: number }> {
  const group = ctx.auth.groupOf(port);
  if (group.limit !== undefined || group.failuresSinceGood < CONTROL_EVERY || group.gate) return {};
  const epoch = group.epoch;
  const failuresAtControl = group.failuresSinceGood;
  const c = await gated(group, () => labControl(ctx, port));
  if (c.result === 'accepted' || c.result === 'none' || c.result === 'unknown') return {};
  if (c.result === 'refused' && !group.labWorked) return {};
  // Locked: silently (the lab login refused where it worked) or with a signal.
  group.tainted.add(epoch);
  group.learnedAfter = Math.max(2, Math.min(group.learnedAfter ?? Infinity, failuresAtControl));
  await gated(group, () => waitForAccess(ctx, port, 'guessing', `the lab credential stopped working after ${failuresAtControl} failures (${c.detail})`));
  return { lockedEpoch: epoch };
}

/** Count `n` failures on the port's group, then run the control if one is due. */
export async function afterFailure(ctx: ProbeContext, port: number, n = 1): Promise<{ lockedEpoch?: number }> {
  ctx.auth.groupOf(port).failed(n);
  return controlIfDue(ctx, port);
}

/**
 * One request that may count as a failed login, under the ledger: room is
 * made first (null when there is none: do not send it), the failures it
 * caused are counted at once, and under a known limit the whole step runs
 * alone in its group so two probes cannot both take the last place.
 */
export async function guarded<T>(ctx: ProbeContext, port: number, fn: () => Promise<T>, failures: (r: T) => number): Promise<T | null> {
  const group = ctx.auth.groupOf(port);
  let counted = 0;
  const body = async (): Promise<T | null> => {
    if (!(await roomForFailure(ctx, port))) return null;
    const r = await fn();
    counted = failures(r);
    if (counted > 0) group.failed(counted);
    return r;
  };
  const r = group.limit !== undefined ? await group.exclusive(body) : await body();
  if (r !== null && counted > 0) await controlIfDue(ctx, port);
  return r;
}

/**
 * Before a step that needs the lab credential (update, reset, read-back):
 * make sure the device accepts it, waiting out a lock within bounds. Null
 * when nothing had to be checked or it worked at once; else the wait.
 */
export async function ensureAccess(ctx: ProbeContext, port: number, purpose: string): Promise<AccessWait | null> {
  const group = ctx.auth.groupOf(port);
  while (group.gate) await group.gate.catch(() => undefined);
  const lockedNow = group.lockedUntil !== undefined && group.lockedUntil > Date.now();
  if (!labLoginFor(ctx, port)) {
    if (!lockedNow) return null;
    return gated(group, () => waitForAccess(ctx, port, purpose, 'the device signalled a lock and no lab login is declared to check it'));
  }
  // The control for the step's own refusal: the lab credential must work right before it, every time.
  const c = lockedNow ? { result: 'locked' as ControlResult, detail: 'the device signalled a lock' } : await gated(group, () => labControl(ctx, port));
  // Unreachable (rebooting) is not a lock: the step itself finds out.
  if (c.result === 'accepted' || c.result === 'unknown') return null;
  return gated(group, () => waitForAccess(ctx, port, purpose, c.detail));
}
