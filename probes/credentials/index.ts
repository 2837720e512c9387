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
import type { AttemptOutcome, LoginAdapter, LoginTarget } from './adapter';
import { dictionaryFor, type DictionaryEntry } from './dictionary';
import { httpBasicLogin } from './http-basic';
import { mqttLogin } from './mqtt';
import { sshLogin } from './ssh';
import { findTargets } from './targets';
import { ftpLoginAdapter } from './ftp';
import { httpDigestLogin } from './http-digest';
import { httpFormLogin } from './http-form';
import { telnetLogin } from './telnet';

export const ADAPTERS: Record<string, LoginAdapter> = {
  ssh: sshLogin,
  telnet: telnetLogin,
  'http-basic': httpBasicLogin,
  'http-digest': httpDigestLogin,
  'http-form': httpFormLogin,
  mqtt: mqttLogin,
  ftp: ftpLoginAdapter,
};
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
const OUTCOMES = ['accepted', 'rejected', 'no-password-login', 'error'] as const;

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

interface RunState {
  tried: number;
  errors: number;
  consecutiveErrors: number;
  lastError?: string;
  accepted: Array<Record<string, unknown>>;
  stop?: StopReason;
  labLogins: number;
  detail?: string;
}

function record(state: RunState, outcome: AttemptOutcome): void {
  state.tried += 1;
  if (outcome.kind === 'error') {
    state.errors += 1;
    state.consecutiveErrors += 1;
    state.lastError = outcome.detail;
    if (state.consecutiveErrors >= MAX_CONSECUTIVE_ERRORS) state.stop ??= 'errors';
  } else state.consecutiveErrors = 0;
}

async function tryDictionary(ctx: ProbeContext, target: LoginTarget, dictionary: DictionaryEntry[]): Promise<Observation> {
  const adapter = ADAPTERS[target.adapter];
  const state: RunState = { tried: 0, errors: 0, consecutiveErrors: 0, accepted: [], labLogins: 0 };
  const reveal = ctx.secrets.reveal;

  // Negative control: a service that takes a random pair takes every default.
  // Under a lockout it goes first (it counts as a failure); otherwise it runs
  // beside the dictionary, since slow refusals (busybox: ~3 s) would double the time.
  const runControl = async (): Promise<AttemptOutcome> => {
    const outcome = await adapter.attempt(ctx, target, `sb-${randomBytes(4).toString('hex')}`, randomBytes(9).toString('base64url'));
    record(state, outcome);
    // Dictionary hits are cleared once the control is in (below), whichever finished first.
    if (outcome.kind === 'accepted') state.stop = 'accepts-anything';
    if (outcome.kind === 'no-password-login') {
      state.stop = 'no-password-login';
      state.detail = outcome.detail;
    }
    return outcome;
  };
  const controlFirst = target.lockout !== undefined || target.adapter === 'ssh';
  const pendingControl = runControl();
  const early = controlFirst ? await pendingControl : undefined;
  let failures = early?.kind === 'rejected' ? 1 : 0;

  // A form login is judged by a declared marker: prove the marker with the lab account first,
  // or every refusal could be a misdeclared marker (a false pass).
  if (!state.stop && target.form) {
    const ok = target.form.lab ? await adapter.attempt(ctx, target, target.form.lab.username, target.form.lab.password) : undefined;
    if (ok?.kind !== 'accepted') {
      state.stop = 'errors';
      state.detail = target.form.lab
        ? `the lab credential was not accepted under the declared success marker (${ok?.detail ?? ok?.kind}); fix the form declaration`
        : 'a form login needs a lab credential (auth[].credential) to prove its success marker';
    }
  }

  // Under a declared lockout, prove the lab credential works before guessing around it.
  let reset = target.lockout?.reset;
  if (!state.stop && target.lockout && reset) {
    const ok = await adapter.attempt(ctx, target, reset.username, reset.password);
    if (ok.kind === 'accepted') {
      state.labLogins += 1;
      failures = 0;
    } else {
      state.detail = `the lab credential was refused (${ok.kind}: ${ok.detail ?? ''}), so guessing stays under the lockout`;
      reset = undefined;
    }
  }
  const lockoutRoom = target.lockout ? target.lockout.after - 1 : Infinity;
  const budget = Math.min(ctx.device.limits.credentialBudget, dictionary.length, target.lockout && !reset ? Math.max(0, lockoutRoom - failures) : Infinity);
  const planned = dictionary.slice(0, budget);

  /** Log in with the lab credential: resets a consecutive-failure count, or shows a lockout began. */
  const labLogin = async (): Promise<boolean> => {
    const ok = await adapter.attempt(ctx, target, reset!.username, reset!.password);
    if (ok.kind !== 'accepted') {
      state.stop = 'lockout-started';
      state.detail = `the lab login was refused after ${state.tried} attempts (${ok.detail ?? ok.kind}); a lockout started mid-dictionary`;
      return false;
    }
    state.labLogins += 1;
    failures = 0;
    return true;
  };

  const one = async (e: DictionaryEntry): Promise<void> => {
    if (target.lockout && reset && failures >= lockoutRoom && !(await labLogin())) return;
    const outcome = await adapter.attempt(ctx, target, e.username, e.password);
    if (ctx.signal.aborted) return;
    record(state, outcome);
    if (outcome.kind === 'rejected') failures += 1;
    // Under a lockout an error may be the device locking us out (HTTP 429, a dropped login): ask the lab account.
    if (outcome.kind === 'error' && target.lockout && reset && !state.stop) await labLogin();
    if (outcome.kind === 'accepted' && state.stop !== 'accepts-anything') {
      state.accepted.push({
        list: e.list,
        entry: e.entry,
        username: e.username,
        password: maskPassword(e.password, reveal),
        detail: outcome.detail,
        ...(e.source ? { source: e.source } : {}),
      });
      state.stop = 'accepted';
    }
  };

  let next = 0;
  // Under a lockout every attempt counts: one at a time.
  const workers = target.lockout ? 1 : ctx.connector.slots.limit;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (!state.stop && next < planned.length && !ctx.signal.aborted) await one(planned[next++]);
    }),
  );
  const control = await pendingControl;
  // A service that took the random pair proves nothing with its dictionary hits.
  if (state.stop === 'accepts-anything') state.accepted = [];
  if (ctx.signal.aborted && !state.stop) state.stop = 'aborted';
  const guessed = state.tried - 1;
  const stopReason: StopReason =
    state.stop ?? (planned.length < dictionary.length ? (target.lockout && !reset ? 'lockout-budget' : 'budget') : state.errors > 0 ? 'errors' : 'exhausted');
  // Settled: every entry refused with no error, or no password can be accepted at all.
  const complete = stopReason === 'no-password-login' || (stopReason === 'exhausted' && state.errors === 0 && guessed === dictionary.length);
  const label = `${target.protocol} ${target.port}${target.path ? ` ${target.path}` : ''}`;
  let summary: string;
  if (stopReason === 'accepts-anything') summary = `${label}: accepted a random username and password (${control.kind === 'accepted' ? control.detail : ''})`;
  else if (state.accepted.length)
    summary = `${label}: accepted ${state.accepted[0].username} (${state.accepted[0].list} list entry ${state.accepted[0].entry}) after ${guessed} guesses`;
  else if (stopReason === 'no-password-login') summary = `${label}: no password login offered (${state.detail})`;
  else
    summary = `${label}: ${guessed} of ${dictionary.length} entries tried, none accepted (${stopReason}${state.errors ? `, ${state.errors} errors` : ''}${state.labLogins ? `, ${state.labLogins} lab logins to stay under the lockout` : ''})`;
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
      lockout: target.lockout ? { after: target.lockout.after, seconds: target.lockout.seconds, labCredential: Boolean(target.lockout.reset) } : undefined,
      list: ctx.device.defaultCredentials.length ? 'declared defaults + Mirai' : 'Mirai',
      listSize: dictionary.length,
      planned: planned.length,
      tried: Math.max(0, guessed),
      errors: state.errors,
      lastError: state.lastError,
      labLogins: state.labLogins,
      control: control.kind,
      accepted: state.accepted,
      complete,
      stopReason,
      detail: state.detail,
    },
  };
}

export const credentialsProbe: Probe = {
  id: 'credentials',
  title: 'Default and weak credentials (declared defaults, Mirai list) on SSH, telnet, FTP, HTTP Basic and MQTT',
  needs: ['host'],
  facts: [LoginAttemptsFact, LoginBaselineFact, LoginUnreachableFact, LoginNotCoveredFact],
  dependsOn: ['tcp-ports'],
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
