/**
 * credentials: tries the Mirai dictionary on every password login it can
 * reach, stopping at the first success per service, within a budget, and
 * never locking the lab account: under a declared lockout it logs in with the
 * lab credential before the failure count reaches the limit (which resets a
 * consecutive-failure counter and proves the account is still usable), and
 * stops if that login is refused.
 */
import { z } from 'zod';
import { defineFact } from '../../harness/facts';
import { randomBytes } from 'node:crypto';
import type { Observation, Probe, ProbeContext } from '../../harness/types';
import { maskPassword } from '../../harness/secrets';
import type { AttemptOutcome, LoginTarget } from './adapter';
import { dictionaryFor, type DictionaryEntry } from './dictionary';
import { findTargets } from './targets';
import { ADAPTERS } from './adapters';
import { declaredCertificateOnly, labClientCert } from '../util/client-cert';
import { proveClientCertRequired } from '../util/tls-connect';
import { guarded, lockWaitMs, labControl, labLoginFor, noteLock, waitForAccess } from './session';

export { ADAPTERS };
const MAX_CONSECUTIVE_ERRORS = 5;

export const STOP_REASONS = [
  'accepted',
  'accepts-anything',
  'no-password-login',
  'exhausted',
  'budget',
  'lockout-budget',
  'lockout-started',
  'errors',
  'aborted',
] as const;
export type StopReason = (typeof STOP_REASONS)[number];
const OUTCOMES = ['accepted', 'rejected', 'no-password-login', 'locked', 'hung-up', 'error'] as const;

/** The dictionary run against one login: what was tried, what was accepted, the control, and why it stopped. */
export const LoginAttemptsFact = defineFact(
  'login-attempts',
  z.object({
    adapter: z.string(),
    protocol: z.string(),
    port: z.number().int(),
    path: z.string().optional(),
    source: z.string(),
    lockout: z.object({ after: z.number().int(), seconds: z.number().optional(), labCredential: z.boolean() }).optional(),
    list: z.string(),
    listSize: z.number().int(),
    planned: z.number().int(),
    tried: z.number().int(),
    errors: z.number().int(),
    lastError: z.string().optional(),
    labLogins: z.number().int(),
    /** The random-pair control: a login that accepts it accepts anything. */
    control: z.enum(OUTCOMES),
    accepted: z.array(
      z.object({
        list: z.string(),
        entry: z.number().int(),
        username: z.string(),
        password: z.string(),
        detail: z.string().optional(),
        source: z.string().optional(),
      }),
    ),
    /** Every entry refused with no error, or no password login offered at all. */
    complete: z.boolean(),
    stopReason: z.enum(STOP_REASONS),
    detail: z.string().optional(),
    /** The lockout group the attempts counted in (harness/auth-ledger.ts). */
    group: z.string().optional(),
    /** Passwords after which the service hung up: refusals only where the lab login through it got a session. */
    hungUp: z.number().int().optional(),
    /** Answers that said the device was locking (429, Retry-After, lock words). */
    lockAnswers: z.number().int().optional(),
    /** Entries answered under a lock that could not be tried again: unknown, not refused. */
    unknownEntries: z.number().int().optional(),
    /** A form login's fields (declared or discovered), so brute force tries the same login. */
    form: z
      .object({
        usernameField: z.string(),
        passwordField: z.string(),
        extraFields: z.record(z.string(), z.string()).optional(),
        successText: z.string().optional(),
        failureText: z.string().optional(),
        successRedirect: z.string().optional(),
        protectedPath: z.string().optional(),
      })
      .optional(),
  }),
  // Nothing accepted is only a refusal when every entry was answered.
  (a) =>
    a.complete || a.accepted.length > 0 || a.stopReason === 'accepts-anything'
      ? null
      : `${a.protocol} ${a.port}: ${a.tried} of ${a.listSize} tried (${a.stopReason}${a.lastError ? `; ${a.lastError}` : ''})`,
);
export type LoginAttempts = z.infer<typeof LoginAttemptsFact.schema>;
/** A declared web login that answered without a challenge: its default credentials could not be tried. */
export const LoginBaselineFact = defineFact(
  'login-baseline',
  z.object({ path: z.string(), status: z.number().int(), challenge: z.string() }),
  (b) => `declared login ${b.path} answered ${b.status} without a challenge`,
);
/** A declared web login that did not answer at all. */
export const LoginUnreachableFact = defineFact(
  'login-unreachable',
  z.object({ path: z.string(), error: z.string() }),
  (u) => `declared login ${u.path}: ${u.error}`,
);
/** A login on a protocol no adapter speaks yet. */
export const LoginNotCoveredFact = defineFact('login-not-covered', z.object({ protocol: z.string() }), (n) => `no login adapter for ${n.protocol}`);

interface Judged {
  entry: DictionaryEntry;
  outcome: AttemptOutcome['kind'];
  /** The ledger epoch the attempt started in: a lock found in that epoch makes its refusal unknown. */
  epoch: number;
}

interface RunState {
  tried: number;
  errors: number;
  consecutiveErrors: number;
  lastError?: string;
  accepted: Array<Record<string, unknown>>;
  stop?: StopReason;
  detail?: string;
  /** The last outcome per planned entry, by index. */
  judged: Map<number, Judged>;
  locks: number;
}

/** Rounds of trying again the entries a lock made unknown. */
const MAX_ROUNDS = 5;

function record(state: RunState, outcome: AttemptOutcome): void {
  state.tried += 1;
  if (outcome.kind === 'error') {
    state.errors += 1;
    state.consecutiveErrors += 1;
    state.lastError = outcome.detail;
    if (state.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) state.stop ??= 'errors';
  } else state.consecutiveErrors = 0;
}

/** Failures one attempt may count on the device: Digest asks once without credentials first. */
const countOf = (target: LoginTarget): number => (target.adapter === 'http-digest' ? 2 : 1);

/** A TLS port declared `scheme: client-certificate` that proves it admits nobody without one: no password login offered. */
async function certificateOnly(ctx: ProbeContext, target: LoginTarget): Promise<Observation | null> {
  if (!target.tls || !declaredCertificateOnly(ctx.device, target.port)) return null;
  const proof = await proveClientCertRequired(ctx, target.port, labClientCert(ctx.device, target.port));
  if (!proof.required) return null;
  const label = `${target.protocol} ${target.port}`;
  return {
    kind: 'login-attempts',
    port: target.port,
    protocol: target.protocol,
    summary: `${label}: no password login offered without a client certificate (${proof.detail})`,
    data: {
      adapter: target.adapter,
      protocol: target.protocol,
      port: target.port,
      source: target.source,
      list: 'none',
      listSize: 0,
      planned: 0,
      tried: 0,
      errors: 0,
      labLogins: 0,
      control: 'no-password-login',
      accepted: [],
      complete: true,
      stopReason: 'no-password-login',
      detail: `client certificate required: ${proof.detail}`,
    },
  };
}

async function tryDictionary(ctx: ProbeContext, target: LoginTarget, dictionary: DictionaryEntry[]): Promise<Observation> {
  const certOnly = await certificateOnly(ctx, target);
  if (certOnly) return certOnly;
  const adapter = ADAPTERS[target.adapter];
  const group = ctx.auth.groupOf(target.port);
  const state: RunState = { tried: 0, errors: 0, consecutiveErrors: 0, accepted: [], judged: new Map(), locks: 0 };
  const reveal = ctx.secrets.reveal;
  const controlsBefore = group.controls;
  const lab = labLoginFor(ctx, target.port);
  // The lab login runs through this very target: a hang-up after a wrong password can then be read as a refusal.
  const labHere = lab !== undefined && lab.target.port === target.port && lab.target.adapter === target.adapter;

  // Negative control: a service that takes a random pair takes every default. Under a known limit it
  // goes first (it counts as a failure); otherwise beside the dictionary (slow refusals would double the time).
  const failuresOf = (o: AttemptOutcome): number => (o.kind === 'rejected' || o.kind === 'hung-up' ? countOf(target) : 0);
  const randomPair = async (): Promise<AttemptOutcome> => {
    const outcome = await guarded(
      ctx,
      target.port,
      () => adapter.attempt(ctx, target, `sb-${randomBytes(4).toString('hex')}`, randomBytes(9).toString('base64url')),
      failuresOf,
    );
    if (outcome === null) return { kind: 'error', detail: 'no room under the lockout for the random-pair control' };
    if (outcome.kind === 'locked') noteLock(ctx, target.port, outcome);
    return outcome;
  };
  const onControl = (outcome: AttemptOutcome): void => {
    record(state, outcome);
    if (outcome.kind === 'accepted') state.stop = 'accepts-anything';
    if (outcome.kind === 'no-password-login') {
      state.stop = 'no-password-login';
      state.detail = outcome.detail;
    }
  };
  const controlFirst = group.limit !== undefined || target.adapter === 'ssh';
  const pendingControl = randomPair().then((o) => (onControl(o), o));
  if (controlFirst) await pendingControl;

  // The positive control: the lab credential works here, so a refusal can be told from a broken login.
  // A form login is judged by a declared marker: without it working for the lab account every refusal could be a misdeclared marker.
  // A discovered form (protected page as the proof) with no lab credential: guess on it, but refusals alone settle nothing.
  const unprovenForm = target.form?.protectedPath !== undefined && !target.form.lab;
  if (!state.stop && target.form && !unprovenForm) {
    const ok = target.form.lab ? await adapter.attempt(ctx, target, target.form.lab.username, target.form.lab.password) : undefined;
    if (ok?.kind === 'accepted') group.good();
    else {
      state.stop = 'errors';
      state.detail = target.form.lab
        ? `the lab credential was not accepted under the declared success marker (${ok?.detail ?? ok?.kind}); fix the form declaration`
        : 'a form login needs a lab credential (auth[].credential) to prove its success marker';
    }
  } else if (!state.stop && lab) {
    // The positive control first: a lab credential that does not work makes every later refusal meaningless.
    let c = await labControl(ctx, target.port);
    if (c.result === 'locked') c = (await waitForAccess(ctx, target.port, 'credentials', c.detail)).ok ? { result: 'accepted', detail: '' } : c;
    if (c.result !== 'accepted') {
      state.stop = 'errors';
      state.detail = `the lab credential did not work before any guess (${c.detail}): fix auth[].credential, or wait for a lock from an earlier run to clear`;
    }
  }

  const planned = dictionary.slice(0, Math.min(ctx.device.limits.credentialBudget, dictionary.length));
  const one = async (i: number): Promise<void> => {
    const e = planned[i];
    let epoch = group.epoch;
    const outcome = await guarded(
      ctx,
      target.port,
      () => {
        epoch = group.epoch;
        return adapter.attempt(ctx, target, e.username, e.password);
      },
      failuresOf,
    );
    if (outcome === null) {
      state.stop ??= group.signals.length || group.tainted.size ? 'lockout-started' : 'lockout-budget';
      state.detail ??=
        state.stop === 'lockout-started'
          ? `the lab login was refused after ${state.tried} attempts and the lock did not clear within the wait; a lockout started mid-dictionary`
          : `${group.limit} failures lock the device and no lab credential is declared to reset the count`;
      return;
    }
    if (ctx.signal.aborted) return;
    record(state, outcome);
    state.judged.set(i, { entry: e, outcome: outcome.kind, epoch });
    if (outcome.kind === 'locked') {
      state.locks += 1;
      noteLock(ctx, target.port, outcome);
      // A lock that came before the declared limit teaches the real one.
      if (group.failuresSinceGood > 0) group.learnedAfter = Math.max(2, Math.min(group.learnedAfter ?? Infinity, group.failuresSinceGood));
    } else if (outcome.kind === 'accepted' && state.stop !== 'accepts-anything') {
      state.accepted.push({
        list: e.list,
        entry: e.entry,
        username: e.username,
        password: maskPassword(e.password, reveal),
        detail: outcome.detail,
        ...(e.source ? { source: e.source } : {}),
      });
      state.stop = 'accepted';
    } else if (outcome.kind === 'no-password-login') {
      state.stop = 'no-password-login';
      state.detail = outcome.detail;
    }
  };
  const workers = (queue: number[]): Promise<unknown> => {
    let next = 0;
    return Promise.all(
      Array.from({ length: group.limit !== undefined ? 1 : ctx.connector.slots.perKey }, async () => {
        while (!state.stop && next < queue.length && !ctx.signal.aborted) await one(queue[next++]);
      }),
    );
  };
  // Entries whose last outcome does not count as judged: a lock answered, or a refusal in an epoch found locked.
  const suspects = (): number[] =>
    [...state.judged.entries()]
      .filter(([, j]) => j.outcome === 'locked' || ((j.outcome === 'rejected' || j.outcome === 'hung-up') && group.tainted.has(j.epoch)))
      .map(([i]) => i);

  await workers(planned.map((_, i) => i));
  for (let round = 0; round < MAX_ROUNDS && !state.stop && !ctx.signal.aborted; round++) {
    // The closing positive control: refused here means every refusal since the last good control is unknown.
    if (lab && !target.form) {
      const epoch = group.epoch;
      const c = await labControl(ctx, target.port);
      if ((c.result === 'refused' && group.labWorked) || c.result === 'locked') {
        group.tainted.add(epoch);
        await waitForAccess(ctx, target.port, 'credentials', `the lab credential stopped working by the end of the list (${c.detail})`);
      }
    }
    const again = suspects();
    if (again.length === 0) break;
    ctx.progress(`${target.protocol} ${target.port}: ${again.length} entries answered under a lock; trying them again`);
    await workers(again);
  }
  const control = await pendingControl;
  // A service that took the random pair proves nothing with its dictionary hits.
  if (state.stop === 'accepts-anything') state.accepted = [];
  if (ctx.signal.aborted && !state.stop) state.stop = 'aborted';

  // Without a lab credential the device must show it was still judging passwords: the random pair refused again, no lock seen.
  // Without a lab credential nothing shows the device was still judging passwords: a lockout that answers like a
  // wrong password (401, "Login incorrect") looks exactly like a refusal. A hit is still a hit; refusals settle nothing.
  const stillJudging = lab !== undefined || unprovenForm;
  if (!stillJudging && !state.stop)
    state.detail = `no lab credential declared for this login (auth[].credential): a lockout that answers like a wrong password cannot be told from a refusal`;
  const unknownLeft = suspects().length;
  const hungUp = [...state.judged.values()].filter((j) => j.outcome === 'hung-up').length;
  const hangupsUnproven = hungUp > 0 && !(labHere && group.labWorked);
  const judgedAll = state.judged.size === planned.length;
  const stopReason: StopReason = state.stop ?? (planned.length < dictionary.length ? 'budget' : state.errors > 0 || !judgedAll ? 'errors' : 'exhausted');
  // Settled: every entry refused (and trusted) with no error, or no password can be accepted at all.
  const complete =
    stopReason === 'no-password-login' ||
    (stopReason === 'exhausted' && state.errors === 0 && judgedAll && unknownLeft === 0 && !hangupsUnproven && stillJudging && !unprovenForm);
  if (stopReason === 'exhausted' && !complete)
    state.detail ??= unknownLeft
      ? `${unknownLeft} entries were answered under a lock and could not be tried again`
      : hangupsUnproven
        ? `the service hung up after ${hungUp} passwords and no lab login through it shows what an accepted one looks like`
        : unprovenForm
          ? `a discovered login form: every entry was refused, but with no lab credential on this port nothing shows a good login would have opened ${target.form!.protectedPath}`
          : undefined;
  const label = `${target.protocol} ${target.port}${target.path ? ` ${target.path}` : ''}`;
  const guessed = state.judged.size;
  const labLogins = group.controls - controlsBefore;
  let summary: string;
  if (stopReason === 'accepts-anything') summary = `${label}: accepted a random username and password (${control.kind === 'accepted' ? control.detail : ''})`;
  else if (state.accepted.length)
    summary = `${label}: accepted ${String(state.accepted[0].username)} (${String(state.accepted[0].list)} list entry ${String(state.accepted[0].entry)}) after ${guessed} guesses`;
  else if (stopReason === 'no-password-login') summary = `${label}: no password login offered (${state.detail})`;
  else
    summary = `${label}: ${guessed} of ${dictionary.length} entries tried, none accepted (${stopReason}${state.errors ? `, ${state.errors} errors` : ''}${hungUp ? `, ${hungUp} hang-ups` : ''}${state.locks ? `, ${state.locks} lock answers` : ''}${labLogins ? `, ${labLogins} lab logins` : ''})`;
  return {
    kind: 'login-attempts',
    port: target.port,
    protocol: target.protocol,
    summary,
    data: {
      adapter: target.adapter,
      protocol: target.protocol,
      port: target.port,
      path: target.path,
      source: target.source,
      lockout: group.limit !== undefined ? { after: group.limit, seconds: group.declared?.seconds, labCredential: Boolean(lab) } : undefined,
      list: ctx.device.defaultCredentials.length ? 'declared defaults + Mirai' : 'Mirai',
      listSize: dictionary.length,
      planned: planned.length,
      tried: guessed,
      errors: state.errors,
      lastError: state.lastError,
      labLogins,
      control: control.kind,
      accepted: state.accepted,
      complete,
      stopReason,
      detail: state.detail,
      group: group.id,
      hungUp,
      lockAnswers: state.locks,
      unknownEntries: unknownLeft,
      form: target.form ? { ...target.form, lab: undefined } : undefined,
    },
  };
}

export const credentialsProbe: Probe = {
  id: 'credentials',
  title: 'Default and weak credentials (declared defaults, Mirai list) on SSH, telnet, FTP, HTTP Basic and MQTT',
  needs: ['host'],
  facts: [LoginAttemptsFact, LoginBaselineFact, LoginUnreachableFact, LoginNotCoveredFact],
  dependsOn: ['tcp-ports'],
  // The dictionary, plus the lock waits the session may need (a few rounds, bounded).
  timeoutMs: (device) => device.limits.probeTimeoutSeconds * 1000 + (MAX_ROUNDS + 1) * lockWaitMs(device),
  clauses: ['EN 303 645 5.1-1', 'TS 103 701 5.1-1-2', 'JC-STAR S1.1-02', 'PSTI 1'],
  async run(ctx) {
    const dictionary = dictionaryFor(ctx.device.defaultCredentials);
    const { targets, notes } = await findTargets(ctx);
    ctx.progress(`trying ${dictionary.length} credentials on ${targets.map((t) => `${t.protocol} ${t.port}`).join(', ') || 'no login'}`);
    // Services are independent: try them side by side (the connector still caps connections).
    const results = await Promise.all(targets.map((t) => tryDictionary(ctx, t, dictionary)));
    return { observations: [...notes, ...results] };
  },
};
