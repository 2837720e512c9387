/**
 * brute-force: against each password login, a bounded run of wrong passwords
 * (default 20) timed one by one, looking for a lockout, a rate limit or a
 * growing delay. The lab credential is tried before and after; a lockout is
 * waited out (bounded, with progress) so the device is left usable.
 */
import { z } from 'zod';
import { defineFact, factsOf } from '../harness/facts';
import { randomBytes } from 'node:crypto';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { ADAPTERS, LoginAttemptsFact } from './credentials';
import { publicPasswords } from './credentials/dictionary';
import { labControl, labLoginFor, lockWaitMs, noteLock, waitForAccess } from './credentials/session';
import { clientCertFor } from './credentials/targets';
import type { AttemptOutcome, LoginTarget } from './credentials/adapter';
import { Semaphore } from '../harness/limiter';

export const WRONG_ATTEMPTS = 20;

export type Mitigation = 'lockout' | 'rate-limit' | 'growing-delay' | 'none';
const OUTCOME = z.enum(['accepted', 'rejected', 'no-password-login', 'locked', 'hung-up', 'error']) satisfies z.ZodType<AttemptOutcome['kind']>;

/** Wrong passwords against one login, with the latency of each, the lab login before and after, and what that shows. */
export const BruteForceFactKind = defineFact(
  'brute-force',
  z.object({
    adapter: z.string(),
    protocol: z.string(),
    port: z.number().int(),
    path: z.string().optional(),
    claim: z.string().optional(),
    attempts: z.array(z.object({ n: z.number().int(), outcome: OUTCOME, ms: z.number(), detail: z.string().optional() })),
    mitigation: z.enum(['lockout', 'rate-limit', 'growing-delay', 'none', 'unknown']),
    detail: z.string(),
    labBefore: OUTCOME.optional(),
    labAfter: OUTCOME.optional(),
    recoveredAfterS: z.number().optional(),
    /** Kept for older readers; no claim is judged on the lab's own password. */
    labPasswordBits: z.number().optional(),
    /** The factory password's entropy (auth[].factoryPassword, else the declared defaults): what a high-entropy claim is about. */
    factoryPasswordBits: z.number().optional(),
    /** The factory password is on a public list (Mirai, vendor defaults): no entropy saves it. */
    factoryPasswordPublic: z.boolean().optional(),
    factoryPasswordFrom: z.string().optional(),
    /** The service stopped answering normally under repeated logins (resets, silence): a finding, not a mitigation. */
    fellOver: z.boolean().optional(),
    /** How long the lab login took before the series, when it was accepted: what a good login costs on this device. */
    labLoginMs: z.number().optional(),
  }),
  (f) =>
    f.mitigation === 'unknown'
      ? f.detail
      : (f.mitigation === 'lockout' || f.mitigation === 'rate-limit') && f.recoveredAfterS === undefined
        ? `${f.mitigation === 'lockout' ? 'locked out' : 'limited'}, and the lab login did not work again within the wait`
        : null,
);
export type BruteForceFact = z.infer<typeof BruteForceFactKind.schema>;
/** A login the credentials probe found takes no password at all (SSH publickey only): nothing to guess. */
export const NoPasswordLoginFact = defineFact('no-password-login', z.object({ detail: z.string().optional() }));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** Rough entropy of a password from its length and the character classes it uses. */
export function passwordBits(p: string): number {
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/[0-9]/.test(p)) pool += 10;
  if (/[^a-zA-Z0-9]/.test(p)) pool += 33;
  return Math.round(p.length * Math.log2(Math.max(pool, 1)));
}

function targetsFrom(ctx: ProbeContext): LoginTarget[] {
  return (
    factsOf(ctx.dependency('credentials'), LoginAttemptsFact)
      // A service that takes anything, or no password at all, has nothing to brute-force.
      .filter((d) => d.stopReason !== 'accepts-anything' && d.stopReason !== 'no-password-login')
      .map((d) => {
        const t: LoginTarget = {
          adapter: d.adapter,
          protocol: d.protocol,
          port: d.port,
          path: d.path,
          tls: d.protocol === 'https' || d.protocol === 'mqtts',
          source: d.source,
        };
        // The same login the dictionary ran on: its form (declared or discovered) and the lab's client certificate.
        if (d.form) t.form = { ...d.form, lab: labOf(ctx, d.port) };
        return { ...t, ...clientCertFor(ctx, t) };
      })
  );
}

function labOf(ctx: ProbeContext, port: number): { username: string; password: string } | undefined {
  const lab = labLoginFor(ctx, port);
  return lab ? { username: lab.username, password: lab.password } : undefined;
}

/** Non-refusals in a row that end the series: a lock or a limit must repeat to be claimed, and three is enough. */
const REPEATS = 3;

/**
 * The factory password the high-entropy claim is about: the auth entry's
 * `factoryPassword` (from the unit's label or manual), else the declared
 * default credentials. Never the lab's own password.
 */
function factoryPassword(ctx: ProbeContext, port: number): { bits: number; public: boolean; from: string } | undefined {
  const decl = ctx.device.auth.find((a) => a.port === port && a.factoryPassword !== undefined);
  const known = publicPasswords();
  if (decl?.factoryPassword) return { bits: passwordBits(decl.factoryPassword), public: known.has(decl.factoryPassword), from: 'auth[].factoryPassword' };
  const defaults = ctx.device.defaultCredentials;
  if (defaults.length === 0) return undefined;
  const weakest = defaults.reduce((a, b) => (passwordBits(b.password) < passwordBits(a.password) ? b : a));
  return { bits: passwordBits(weakest.password), public: defaults.some((d) => known.has(d.password)), from: 'defaultCredentials' };
}

/**
 * `turns`: the probe's connections, shared fairly between the logins measured
 * side by side (one per connector slot). An attempt is timed from the moment
 * it holds a turn, so its time is the device's, never time spent waiting for
 * another login's slow refusal to free a connection.
 */
async function hammer(ctx: ProbeContext, target: LoginTarget, turns: Semaphore): Promise<BruteForceFact> {
  const adapter = ADAPTERS[target.adapter];
  const decl = ctx.device.auth.find((a) => a.port === target.port);
  const lab = labLoginFor(ctx, target.port);
  const group = ctx.auth.groupOf(target.port);
  const username = lab?.username ?? 'admin';
  const fact: BruteForceFact = {
    adapter: target.adapter,
    protocol: target.protocol,
    port: target.port,
    path: target.path,
    claim: decl?.bruteForce,
    attempts: [],
    mitigation: 'unknown',
    detail: '',
  };
  const factory = factoryPassword(ctx, target.port);
  if (factory) {
    fact.factoryPasswordBits = factory.bits;
    fact.factoryPasswordPublic = factory.public;
    fact.factoryPasswordFrom = factory.from;
  }
  // Every login of this series holds a turn, the lab's too: another group's attempt, timing itself, never waits for
  // it, and the lab login's own time is what a good login costs on this device.
  const withTurn = async <T>(fn: () => Promise<T>): Promise<T> => {
    const release = await turns.acquire(ctx.signal, String(target.port));
    try {
      return await fn();
    } finally {
      release();
    }
  };
  if (lab) {
    const t = await withTurn(async () => {
      const started = Date.now();
      fact.labBefore = (await labControl(ctx, target.port)).result === 'accepted' ? 'accepted' : 'rejected';
      return Date.now() - started;
    });
    if (fact.labBefore === 'accepted') fact.labLoginMs = t;
  }
  // A hang-up after a wrong password is a refusal only where the lab login through this very service got a session.
  const labHere = lab !== undefined && lab.target.port === target.port && lab.target.adapter === target.adapter && fact.labBefore === 'accepted';

  // Under a declared lockout, one at a time so the moment it starts is exact; otherwise as an attacker would, in parallel.
  const parallel = decl?.bruteForce === 'lockout' || group.limit !== undefined ? 1 : Math.min(4, turns.limit);
  let next = 1;
  let otherInARow = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (otherInARow < REPEATS && next <= WRONG_ATTEMPTS && !ctx.signal.aborted) {
        const n = next++;
        // Timed from the moment it holds its turn.
        const { o, ms } = await withTurn(async () => {
          const t = Date.now();
          const o = await adapter.attempt(ctx, target, username, `sb-wrong-${randomBytes(6).toString('hex')}`);
          return { o, ms: Date.now() - t };
        });
        const refused = o.kind === 'rejected' || (o.kind === 'hung-up' && labHere);
        fact.attempts.push({ n, outcome: o.kind, ms, detail: o.detail });
        if (refused || o.kind === 'hung-up') group.failed(1);
        if (o.kind === 'locked') noteLock(ctx, target.port, o);
        if (o.kind === 'accepted') otherInARow = REPEATS;
        else otherInARow = refused ? 0 : otherInARow + 1;
      }
    }),
  );
  fact.attempts.sort((a, b) => a.n - b.n);
  const isRefusal = (a: { outcome: string }): boolean => a.outcome === 'rejected' || (a.outcome === 'hung-up' && labHere);
  const rejected = fact.attempts.filter(isRefusal);
  const others = fact.attempts.filter((a) => !isRefusal(a));
  const firstOther = others[0];
  // The device kept answering (a lock or limit answer, not a reset or a silence).
  const answers = others.filter((a) => a.outcome === 'locked' || a.outcome === 'rejected');
  const repeated = others.length >= 2 && others.slice(-2).every((a) => a.outcome === 'locked');

  const after = lab ? await withTurn(() => labControl(ctx, target.port)) : undefined;
  fact.labAfter = after ? (after.result === 'accepted' ? 'accepted' : after.result === 'unknown' ? 'error' : 'rejected') : undefined;
  const labLocked = fact.labBefore === 'accepted' && (after?.result === 'refused' || after?.result === 'locked');
  if (fact.attempts.some((a) => a.outcome === 'accepted')) {
    fact.mitigation = 'unknown';
    fact.detail = `a random wrong password was accepted at attempt ${fact.attempts.find((a) => a.outcome === 'accepted')!.n}`;
  } else if (labLocked && rejected.length > 0) {
    fact.mitigation = 'lockout';
    fact.detail = `after ${rejected.length} wrong passwords the lab credential was refused too (${firstOther ? `attempt ${firstOther.n}: ${firstOther.detail}` : after!.detail})`;
  } else if (repeated && rejected.length > 0 && fact.labAfter === 'accepted') {
    // A "limit" that lets the right password straight in slows nobody down: it is just another way to say no.
    fact.mitigation = 'none';
    fact.detail = `after ${rejected.length} wrong passwords the service answered ${others.length} more with a limit (attempt ${firstOther.n}: ${firstOther.detail}), but took the lab credential at once: the limit does not stop a guess that is right`;
  } else if (repeated && rejected.length > 0 && fact.labAfter !== 'error') {
    fact.mitigation = 'rate-limit';
    fact.detail = `after ${rejected.length} wrong passwords the service answered ${others.length} in a row with a limit, the lab credential included (attempt ${firstOther.n}: ${firstOther.detail})`;
  } else if (others.length > 0) {
    const fellOver = fact.labAfter === 'error' || answers.length === 0;
    fact.detail = `${others.length} of ${fact.attempts.length} attempts got no judged answer (attempt ${firstOther.n}: ${firstOther.outcome}${firstOther.detail ? `, ${firstOther.detail}` : ''})${
      fellOver ? '; the service stopped answering normally under repeated logins — a finding of its own, not a mitigation' : ''
    }`;
    fact.fellOver = fellOver || undefined;
  } else if (rejected.length === WRONG_ATTEMPTS) {
    const ms = rejected.map((a) => a.ms);
    const early = median(ms.slice(0, 5));
    const late = median(ms.slice(-5));
    if (!lab) {
      fact.detail = `all ${WRONG_ATTEMPTS} wrong passwords refused alike; with no lab credential declared, a lockout that answers like a wrong password cannot be told from none`;
    } else if (fact.labAfter !== 'accepted') {
      fact.detail = `all ${WRONG_ATTEMPTS} wrong passwords refused, but the lab login afterwards did not work (${after?.detail}): whether the device was still judging is unknown`;
    } else if (late > Math.max(2 * early, early + 1000)) {
      fact.mitigation = 'growing-delay';
      fact.detail = `refusals slowed from ~${early} ms to ~${late} ms over ${WRONG_ATTEMPTS} attempts`;
    } else {
      fact.mitigation = 'none';
      fact.detail = `all ${WRONG_ATTEMPTS} wrong passwords refused at a steady ~${median(ms)} ms, no lockout (the lab credential still worked right after)`;
    }
  } else {
    fact.detail = 'interrupted';
  }

  // Leave the device usable: wait out a lockout or a limit, polling the lab credential (bounded).
  if ((labLocked || (repeated && fact.mitigation === 'rate-limit')) && lab) {
    const w = await withTurn(() => waitForAccess(ctx, target.port, 'brute force', fact.mitigation === 'lockout' ? 'locked out as claimed' : 'limited'));
    if (w.ok) fact.recoveredAfterS = Math.round(w.waitedMs / 1000);
    fact.detail += w.ok
      ? `; the lab credential worked again after ${fact.recoveredAfterS} s`
      : `; the lab credential still failed after ${Math.round(w.waitedMs / 1000)} s`;
  }
  return fact;
}

export const bruteForceProbe: Probe = {
  id: 'brute-force',
  title: 'Brute-force mitigation on every password login (lockout, rate limit, growing delay)',
  needs: ['host'],
  facts: [BruteForceFactKind, NoPasswordLoginFact],
  dependsOn: ['credentials'],
  disruptive: 'brute-force',
  // Per login: the series, the wait for the lock it set off to clear, and the lab logins around it.
  timeoutMs: (device) => device.limits.probeTimeoutSeconds * 1000 + Math.max(1, device.auth.length) * lockWaitMs(device),
  clauses: ['EN 303 645 5.1-5', 'TS 103 701 5.1-5-2', 'JC-STAR S1.1-04'],
  async run(ctx) {
    const targets = targetsFrom(ctx);
    const keyOnly = factsOf(ctx.dependency('credentials'), LoginAttemptsFact).filter((a) => a.stopReason === 'no-password-login');
    ctx.progress(`${WRONG_ATTEMPTS} wrong passwords on ${targets.map((t) => `${t.protocol} ${t.port}`).join(', ') || 'no password login'}`);
    // One login at a time in each lockout group: failures there count together, and an attempt's latency must be
    // the device's, not time spent queueing for a slot held by another login's slow refusals. Groups the device
    // file declares independent (auth[].lockoutGroup) are measured side by side, each with its own share of the
    // connections; by default every login is in one group, one after another.
    const groups = new Map<string, LoginTarget[]>();
    for (const t of targets) {
      const id = ctx.auth.groupOf(t.port).id;
      groups.set(id, [...(groups.get(id) ?? []), t]);
    }
    // The connections, shared fairly between the logins side by side: a fast login's series ends early and the
    // slow one gets the turns it leaves.
    const turns = new Semaphore(ctx.connector.slots.limit);
    if (groups.size > 1) ctx.progress(`${groups.size} independent lockout groups side by side (${[...groups.keys()].join(', ')})`);
    const done = new Map<LoginTarget, BruteForceFact>();
    await Promise.all(
      [...groups.values()].map(async (list) => {
        for (const t of list) done.set(t, await hammer(ctx, t, turns));
      }),
    );
    const facts = targets.map((t) => done.get(t)!);
    const observations: Observation[] = facts.map((f) => ({
      kind: 'brute-force',
      port: f.port,
      protocol: f.protocol,
      summary: `${f.protocol} ${f.port}${f.path ? ` ${f.path}` : ''}: ${f.mitigation} — ${f.detail}`,
      data: { ...f },
    }));
    for (const a of keyOnly)
      observations.push({
        kind: 'no-password-login',
        port: a.port,
        protocol: a.protocol,
        summary: `${a.protocol} ${a.port}: no password login offered${a.detail ? ` (${a.detail})` : ''}`,
        data: { detail: a.detail },
      });
    return { observations };
  },
};
