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
import type { AttemptOutcome, LoginTarget } from './credentials/adapter';

export const WRONG_ATTEMPTS = 20;
const MAX_WAIT_S = 300;
const POLL_MS = 3000;

export type Mitigation = 'lockout' | 'rate-limit' | 'growing-delay' | 'none';
const OUTCOME = z.enum(['accepted', 'rejected', 'no-password-login', 'error']) satisfies z.ZodType<AttemptOutcome['kind']>;

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
    labPasswordBits: z.number().optional(),
  }),
  (f) =>
    f.mitigation === 'unknown'
      ? f.detail
      : f.mitigation === 'lockout' && f.recoveredAfterS === undefined
        ? 'locked out, and the lab login did not work again within the wait'
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
      .map((d) => ({
        adapter: d.adapter,
        protocol: d.protocol,
        port: d.port,
        path: d.path,
        tls: d.protocol === 'https' || d.protocol === 'mqtts',
        source: d.source,
      }))
  );
}

async function hammer(ctx: ProbeContext, target: LoginTarget): Promise<BruteForceFact> {
  const adapter = ADAPTERS[target.adapter];
  const decl = ctx.device.auth.find((a) => a.port === target.port);
  const cred = decl?.credential ? ctx.device.credentials[decl.credential] : undefined;
  const lab = cred?.password !== undefined ? { username: cred.username, password: cred.password } : undefined;
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
  if (lab) fact.labPasswordBits = passwordBits(lab.password);
  if (lab) fact.labBefore = (await adapter.attempt(ctx, target, lab.username, lab.password)).kind;

  // Under a declared lockout, one at a time so the moment it starts is exact; otherwise as an attacker would, in parallel.
  const parallel = decl?.bruteForce === 'lockout' ? 1 : Math.min(4, ctx.connector.slots.limit);
  let next = 1;
  let stop = false;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (!stop && next <= WRONG_ATTEMPTS && !ctx.signal.aborted) {
        const n = next++;
        const t = Date.now();
        const o = await adapter.attempt(ctx, target, username, `sb-wrong-${randomBytes(6).toString('hex')}`);
        fact.attempts.push({ n, outcome: o.kind, ms: Date.now() - t, detail: o.detail });
        if (o.kind !== 'rejected') stop = true;
      }
    }),
  );
  fact.attempts.sort((a, b) => a.n - b.n);
  const rejected = fact.attempts.filter((a) => a.outcome === 'rejected');
  const firstOther = fact.attempts.find((a) => a.outcome !== 'rejected');

  if (lab) fact.labAfter = (await adapter.attempt(ctx, target, lab.username, lab.password)).kind;
  const locked = fact.labBefore === 'accepted' && fact.labAfter !== undefined && fact.labAfter !== 'accepted';
  if (firstOther?.outcome === 'accepted') {
    fact.mitigation = 'unknown';
    fact.detail = `a random wrong password was accepted at attempt ${firstOther.n}`;
  } else if (locked) {
    fact.mitigation = 'lockout';
    fact.detail = `after ${rejected.length} wrong passwords the lab credential was refused too (${firstOther ? `attempt ${firstOther.n}: ${firstOther.detail}` : 'account locked'})`;
  } else if (firstOther && rejected.length > 0) {
    fact.mitigation = 'rate-limit';
    fact.detail = `after ${rejected.length} wrong passwords the service stopped answering normally (attempt ${firstOther.n}: ${firstOther.detail})`;
  } else if (rejected.length === WRONG_ATTEMPTS) {
    const ms = rejected.map((a) => a.ms);
    const early = median(ms.slice(0, 5));
    const late = median(ms.slice(-5));
    if (late > Math.max(2 * early, early + 1000)) {
      fact.mitigation = 'growing-delay';
      fact.detail = `refusals slowed from ~${early} ms to ~${late} ms over ${WRONG_ATTEMPTS} attempts`;
    } else {
      fact.mitigation = 'none';
      fact.detail = `all ${WRONG_ATTEMPTS} wrong passwords refused at a steady ~${median(ms)} ms, no lockout${lab ? ' (the lab credential still worked right after)' : ''}`;
    }
  } else {
    fact.detail = firstOther ? `the first attempt already failed (${firstOther.detail}); nothing to measure` : 'interrupted';
  }

  // Leave the device usable: wait out a lockout, polling the lab credential (bounded).
  if (locked && lab) {
    const waitS = Math.min(decl?.lockoutSeconds ?? 60, MAX_WAIT_S);
    const started = Date.now();
    ctx.progress(`${target.protocol} ${target.port}: locked out as claimed; waiting up to ${waitS + 30} s for it to lift`);
    while (Date.now() - started < (waitS + 30) * 1000 && !ctx.signal.aborted) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      const o = await adapter.attempt(ctx, target, lab.username, lab.password);
      if (o.kind === 'accepted') {
        fact.recoveredAfterS = Math.round((Date.now() - started) / 1000);
        break;
      }
    }
    fact.detail +=
      fact.recoveredAfterS !== undefined
        ? `; the lab credential worked again after ${fact.recoveredAfterS} s`
        : `; the lab credential still failed after ${waitS + 30} s`;
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
  clauses: ['EN 303 645 5.1-5', 'TS 103 701 5.1-5-2', 'JC-STAR S1.1-04'],
  async run(ctx) {
    const targets = targetsFrom(ctx);
    const keyOnly = factsOf(ctx.dependency('credentials'), LoginAttemptsFact).filter((a) => a.stopReason === 'no-password-login');
    ctx.progress(`${WRONG_ATTEMPTS} wrong passwords on ${targets.map((t) => `${t.protocol} ${t.port}`).join(', ') || 'no password login'}`);
    // One login at a time: an attempt's latency must be the device's, not time spent
    // queueing for a connection slot held by another login's slow refusals.
    const facts: BruteForceFact[] = [];
    for (const t of targets) facts.push(await hammer(ctx, t));
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
