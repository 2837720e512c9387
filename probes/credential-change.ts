/**
 * credential-change: the user can change an authentication value (JC-STAR
 * S1.1-03, EN 303 645 5.1-4), and what the user set survives a restart
 * (S1.1-14). One session on the device:
 *
 *   1. control: the lab value logs in on every interface that uses the account;
 *   2. the declared change, to a fresh random value (written first to the run's
 *      secrets.json, mode 600, so that a crash can be undone by `resume`);
 *   3. on every interface: the new value accepted, the old one refused;
 *   4. with a restart declared: restart, watch it happen (the device went away,
 *      or a boot on the UART), and try both values again, and compare the
 *      firmware version with the one before;
 *   5. the change run again the other way, and the lab value proven to log in
 *      again everywhere; only then is secrets.json deleted.
 *
 * A login that could not be judged (a lock, a timeout, a dropped connection)
 * is recorded as unknown, never as refused.
 */
import { z } from 'zod';
import type { Action, CredentialChange } from '../harness/device-file/schema';
import { defineFact } from '../harness/facts';
import { SECRETS_FILE } from '../harness/secrets';
import { dropSecrets, fillAction, freshValue, readSecrets, writeSecrets, type Secrets } from './util/credential-values';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import type { LoginTarget } from './credentials/adapter';
import { ADAPTERS } from './credentials/adapters';
import { guarded, lockWaitMs, targetOfAuth } from './credentials/session';
import { BOOT_MARK } from './serial';
import { actionRecordSchema, deviceReturnSchema, type DeviceReturn, OperatorUnavailable, runAction, waitForDevice, type ActionRecord } from './util/actions';
import { canRestart, restartDevice } from './util/power';
import { closeSerialPort, openSerialPort } from './util/serial-port';
import { sleepUnlessAborted } from './util/sleep';
import { WaitableText } from './util/waitable-text';

/** How long a login that could not connect is tried again after the device is back (services start one by one). */
const LOGIN_RETRY_MS = 30_000;
const SERIAL_KEPT = 512 * 1024;
/** How long the UART is still read for a boot line after the device answers again. */
const BOOT_GRACE_MS = 15_000;
/** Quiet time after opening the UART, before the restart. */
const OPEN_QUIET_MS = 1000;
/** How long an interface still on the old value is given before it is asked again. */
const LATE_CHANGE_MS = 5000;
/** The longest the change back may take when the probe itself was stopped. */
const CHANGE_BACK_MS = 90_000;
/** Polls the device must miss in a row-ish after a restart request to count as gone. */
const MIN_MISSED = 2;

export const LOGIN_RESULTS = ['accepted', 'refused', 'unknown'] as const;
const login = z.object({ result: z.enum(LOGIN_RESULTS), detail: z.string() });
export type LoginResult = z.infer<typeof login>;

const iface = z.object({
  where: z.string(),
  port: z.number().int(),
  protocol: z.string(),
  /** The lab value, before anything changed: the control that the login can be judged at all. */
  before: login,
  /** A random wrong value, before anything changed: refused, or no refusal later means anything (a login that takes every value). */
  anyValue: login.optional(),
  /** After the change: the new value, then the old one. */
  changed: z.object({ new: login, old: login }).optional(),
  /** After the restart, the same two. */
  restarted: z.object({ new: login, old: login }).optional(),
  /** After changing it back: the lab value again. */
  restored: login.optional(),
});
export type InterfaceLogins = z.infer<typeof iface>;

export const CredentialChangeFact = defineFact(
  'credential-change',
  z.object({
    account: z.string(),
    username: z.string(),
    interfaces: z.array(iface),
    change: actionRecordSchema.optional(),
    changeBack: actionRecordSchema.optional(),
    /** The lab value works again on every interface: secrets.json was deleted. */
    restored: z.boolean(),
    restoreDetail: z.string(),
    /** When not restored: the value the device may now hold (masked in every output unless --reveal-secrets). */
    currentValue: z.string().optional(),
    /** A change left over by an earlier, interrupted attempt of this run (secrets.json found), and what was done about it. */
    recovered: z.string().optional(),
  }),
  undefined,
  (f) => ({
    control: f.interfaces.length === 0 ? 'no interface uses the account' : unknownLogins(f.interfaces, (i) => [i.before], 'before the change'),
    change: f.interfaces.some((i) => !i.changed)
      ? 'not every interface was tried after the change'
      : unknownLogins(f.interfaces, (i) => [i.changed!.new, i.changed!.old], 'after the change'),
    restart: f.interfaces.some((i) => i.restarted)
      ? unknownLogins(
          f.interfaces.filter((i) => i.changed?.new.result === 'accepted'),
          (i) => (i.restarted ? [i.restarted.new, i.restarted.old] : [{ result: 'unknown', detail: 'not tried after the restart' }]),
          'after the restart',
        )
      : 'no login was tried after a restart',
  }),
);
export type CredentialChangeFacts = z.infer<typeof CredentialChangeFact.schema>;

export const RestartPersistenceFact = defineFact(
  'restart-persistence',
  z.object({
    restart: actionRecordSchema,
    returned: deviceReturnSchema,
    /** A boot seen on the UART during the restart; undefined when no UART was watched. */
    bootSeen: z.boolean().optional(),
    serialError: z.string().optional(),
    versionBefore: z.string().optional(),
    versionAfter: z.string().optional(),
    versionHow: z.string(),
  }),
  (r) => (!r.returned.returned ? `the device did not answer again within ${Math.round(r.returned.afterMs / 1000)} s of the restart` : restartUnproven(r)),
);

/**
 * Why a restart is not shown to have happened, or null: a boot seen on the UART shows it; so does the device going
 * away for at least MIN_MISSED polls after a restart request it did not refuse. One missed poll is a slow answer, and
 * a request answered 4xx restarted nothing.
 */
export function restartUnproven(r: { restart: ActionRecord; returned: DeviceReturn; bootSeen?: boolean }): string | null {
  if (r.bootSeen === true) return null;
  const refused = !r.restart.ok && r.restart.status !== undefined && r.restart.status >= 300;
  if (refused) return `the restart request was refused (status ${r.restart.status}) and no boot was seen on the UART`;
  const missed = r.returned.missedPolls ?? (r.returned.awayAfterMs !== undefined ? 1 : 0);
  if (missed >= MIN_MISSED) return null;
  return missed === 0
    ? 'no sign the device restarted: it never stopped answering and no boot was seen on the UART'
    : `no sign the device restarted: it missed only ${missed} poll (a slow answer, not an absence) and no boot was seen on the UART`;
}
export type RestartFacts = z.infer<typeof RestartPersistenceFact.schema>;

function unknownLogins(list: InterfaceLogins[], pick: (i: InterfaceLogins) => LoginResult[], when: string): string | null {
  const bad = list.flatMap((i) =>
    pick(i)
      .filter((l) => l.result === 'unknown')
      .map((l) => `${i.where} ${when}: ${l.detail}`),
  );
  return bad.length ? bad.join('; ') : null;
}

/** The probe's view of the device with `account` holding `value`: the ledger's controls and the actions log in with it. */
function holding(ctx: ProbeContext, account: string, value: string): ProbeContext {
  const cred = ctx.device.credentials[account];
  return { ...ctx, device: { ...ctx.device, credentials: { ...ctx.device.credentials, [account]: { ...cred, password: value } } } };
}

interface Iface {
  target: LoginTarget;
  where: string;
}

/** Schemes that take the account's password: its other logins (a key, a client certificate) are not changed by it. */
const PASSWORD_SCHEMES = new Set(['password', 'basic', 'digest', 'form', 'keyboard-interactive']);

/** The account's password logins starbench can try, and those it cannot (no adapter: named, never dropped). */
function interfacesOf(ctx: ProbeContext, account: string): { ifaces: Iface[]; untried: string[] } {
  const ifaces: Iface[] = [];
  const untried: string[] = [];
  for (const a of ctx.device.auth.filter((x) => x.credential === account && PASSWORD_SCHEMES.has(x.scheme))) {
    const where = `${a.protocol} ${a.port}${a.path ? ` ${a.path}` : ''}`;
    const target = targetOfAuth(ctx, a);
    if (target) ifaces.push({ target, where });
    else untried.push(where);
  }
  return { ifaces, untried };
}

/**
 * The new value, then the old one; a refusal of the old one counts only if the new one logs in again right after —
 * else it may have been a session or burst limit, not the old value, that refused it.
 */
async function oldRefused(
  ctx: ProbeContext,
  account: string,
  i: Iface,
  values: { username: string; fresh: string; original: string },
  proven: boolean,
  retryUntil = 0,
): Promise<{ new: LoginResult; old: LoginResult }> {
  const { username, fresh, original } = values;
  const nu = await tryLogin(holding(ctx, account, fresh), i, username, fresh, proven, retryUntil);
  const old = await tryLogin(holding(ctx, account, nu.result === 'accepted' ? fresh : original), i, username, original, proven);
  if (nu.result === 'accepted' && old.result === 'refused') {
    const again = await tryLogin(holding(ctx, account, fresh), i, username, fresh, proven);
    if (again.result !== 'accepted')
      return {
        new: nu,
        old: {
          result: 'unknown',
          detail: `refused (${old.detail}), but the new value did not log in again right after (${again.detail}): a session or burst limit may have refused it`,
        },
      };
  }
  return { new: nu, old };
}

/**
 * One login with `value`. A refusal counts as a failure in the lockout ledger (room is made first). A hang-up is a
 * refusal only when `provenSession` (this interface was seen giving a session); a lock or an error is unknown — an
 * error is tried again until `retryUntil` (a service still starting after a restart).
 */
async function tryLogin(ctx: ProbeContext, i: Iface, username: string, value: string, provenSession: boolean, retryUntil = 0): Promise<LoginResult> {
  for (;;) {
    const o = await guarded(
      ctx,
      i.target.port,
      () => ADAPTERS[i.target.adapter].attempt(ctx, i.target, username, value),
      (r) => (r.kind === 'rejected' || r.kind === 'hung-up' ? 1 : 0),
    );
    if (o === null) return { result: 'unknown', detail: 'not tried: no room under the lockout limit' };
    if (o.kind === 'accepted') {
      ctx.auth.groupOf(i.target.port).good();
      return { result: 'accepted', detail: o.detail ?? 'logged in' };
    }
    if (o.kind === 'rejected') return { result: 'refused', detail: o.detail ?? 'refused' };
    if (o.kind === 'hung-up' && provenSession) return { result: 'refused', detail: `hung up after the password (${o.detail})` };
    if (o.kind === 'error' && Date.now() < retryUntil && !ctx.signal.aborted) {
      await sleepUnlessAborted(ctx.signal, 2000);
      continue;
    }
    return { result: 'unknown', detail: `${o.kind}${'detail' in o && o.detail ? `: ${o.detail}` : ''}` };
  }
}

/** The port an action logs in on, when it uses the account's own credential (it must then log in with the value the device holds). */
function actionPort(a: Action): number | undefined {
  if (a.http) {
    const u = new URL(a.http.url);
    return Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  }
  return a.ssh?.port;
}

/**
 * Change `from` back to `to`: logging in with whichever value the action's own interface accepted last, then
 * proving `to` works on every interface (asked again a few seconds later, for a device that applies it late).
 */
async function changeBack(
  ctx: ProbeContext,
  cc: CredentialChange,
  ifaces: Iface[],
  username: string,
  from: string,
  to: string,
  loginWith: string,
): Promise<{ record?: ActionRecord; logins: LoginResult[]; ok: boolean; detail: string }> {
  let record: ActionRecord | undefined;
  const action = fillAction(cc, { old: from, new: to, username });
  // The value the action's own login takes now, tried first: a device that applied the change late holds the other one.
  const port = actionPort(action);
  const own = port === undefined ? undefined : ifaces.find((i) => i.target.port === port);
  if (own) {
    for (const v of loginWith === from ? [from, to] : [to, from]) {
      if ((await tryLogin(holding(ctx, cc.account, v), own, username, v, true)).result === 'accepted') {
        loginWith = v;
        break;
      }
    }
  }
  try {
    record = (await runAction(holding(ctx, cc.account, loginWith), 'credentialChange (back)', action)).record;
  } catch (err) {
    if (err instanceof OperatorUnavailable) return { logins: [], ok: false, detail: err.message };
    throw err;
  }
  let logins: LoginResult[] = [];
  for (let round = 0; round < 2; round++) {
    await sleepUnlessAborted(ctx.signal, round === 0 ? cc.settleSeconds * 1000 : Math.max(LATE_CHANGE_MS, cc.settleSeconds * 1000));
    logins = [];
    for (const i of ifaces) logins.push(await tryLogin(holding(ctx, cc.account, to), i, username, to, true, Date.now() + LOGIN_RETRY_MS));
    if (logins.every((l) => l.result === 'accepted')) return { record, logins, ok: true, detail: 'the lab value logs in again on every interface' };
  }
  return {
    record,
    logins,
    ok: false,
    detail: `the lab value does not log in again on ${ifaces
      .filter((_, n) => logins[n].result !== 'accepted')
      .map((i) => i.where)
      .join(', ')}${record.ok ? '' : ` (the change back answered: ${record.error ?? record.locked ?? `status ${record.status ?? '?'}`})`}`,
  };
}

/**
 * Ask again, after `holdSeconds`, every interface that showed the change (new value in, old value out): a device that
 * puts the old value back a few seconds later (a config rollback, a boot-time job) shows it now. The later answer
 * stands when it is worse. The old value goes first, after the quiet spell, so that a refusal that came from a session
 * the new value held at the time is not taken for the change.
 */
async function holdsStill(
  ctx: ProbeContext,
  cc: CredentialChange,
  ifaces: Iface[],
  records: InterfaceLogins[],
  stage: 'changed' | 'restarted',
  values: { username: string; fresh: string; original: string },
): Promise<void> {
  const shown = ifaces.map((i, n) => ({ i, n })).filter(({ n }) => records[n][stage]?.new.result === 'accepted' && records[n][stage]?.old.result === 'refused');
  if (shown.length === 0 || cc.holdSeconds === 0) return;
  await sleepUnlessAborted(ctx.signal, cc.holdSeconds * 1000);
  for (const { i, n } of shown) {
    // The old value first this time, after a quiet spell: a refusal that came from a session the new value held is gone.
    const { username, fresh, original } = values;
    const old = await tryLogin(holding(ctx, cc.account, fresh), i, username, original, true);
    const nu = await tryLogin(holding(ctx, cc.account, fresh), i, username, fresh, true);
    const later = { new: nu, old };
    if (later.new.result !== 'accepted' || later.old.result !== 'refused')
      records[n][stage] = {
        new: later.new.result === 'accepted' ? later.new : { ...later.new, detail: `${later.new.detail} (${cc.holdSeconds} s later; it had logged in)` },
        old: later.old.result === 'refused' ? later.old : { ...later.old, detail: `${later.old.detail} (${cc.holdSeconds} s later; it had been refused)` },
      };
  }
}

/** A change an interrupted attempt left behind (secrets.json): put the lab value back before anything else. */
async function recover(ctx: ProbeContext, cc: CredentialChange, ifaces: Iface[], left: Secrets): Promise<string> {
  const logins: LoginResult[] = [];
  for (const i of ifaces) logins.push(await tryLogin(holding(ctx, cc.account, left.original), i, left.username, left.original, false));
  if (logins.every((l) => l.result === 'accepted')) {
    dropSecrets(ctx);
    return 'an earlier attempt left secrets.json; the lab value logs in everywhere, so nothing had to be changed back';
  }
  const r = await changeBack(ctx, cc, ifaces, left.username, left.new, left.original, left.new);
  if (r.ok) {
    dropSecrets(ctx);
    return 'an earlier attempt left the device with its own value; it was changed back and the lab value logs in everywhere';
  }
  throw new Error(`an earlier attempt left the device with the value in ${SECRETS_FILE}, and changing it back failed: ${r.detail}`);
}

/** Watch the UART (when declared) while `during` runs: whether a boot went by. */
async function watchingSerial<T>(
  ctx: ProbeContext,
  during: (console?: { write(t: string): void }) => Promise<T>,
): Promise<{ value: T; bootSeen?: boolean; serialError?: string }> {
  const serial = ctx.device.target.serial;
  if (!serial) return { value: await during() };
  let port;
  try {
    ctx.scope.assertSerial(serial.path);
    port = await openSerialPort(serial.path, serial.baudRate);
  } catch (err) {
    return { value: await during(), serialError: (err as Error).message };
  }
  const out = new WaitableText(SERIAL_KEPT);
  port.on('data', (c: Buffer) => out.append(c.toString('latin1')));
  try {
    // What the console prints as it is opened is not this restart's: let it pass first.
    await sleepUnlessAborted(ctx.signal, OPEN_QUIET_MS);
    const from = out.text.length;
    const value = await during({ write: (t) => port.write(t) });
    // A console prints at its own pace: give the boot lines a little longer than the network took to answer again.
    await out.until(() => BOOT_MARK.exec(out.text.slice(from)), BOOT_GRACE_MS);
    return { value, bootSeen: BOOT_MARK.test(out.text.slice(from)) };
  } finally {
    await closeSerialPort(port);
  }
}

async function readVersion(ctx: ProbeContext): Promise<string | undefined> {
  const v = ctx.device.update?.version;
  if (!v || v.operator) return undefined;
  return (await runAction(ctx, 'update.version', v, { read: true })).record.value;
}

export const credentialChangeProbe: Probe = {
  id: 'credential-change',
  title: 'Changing the lab credential: old value refused, new accepted on every interface, kept across a restart, changed back',
  needs: ['credentials'],
  facts: [CredentialChangeFact, RestartPersistenceFact],
  disruptive: 'credential-change',
  clauses: ['JC-STAR S1.1-03', 'JC-STAR S1.1-14', 'EN 303 645 5.1-4', 'TS 103 701 5.1-4-2'],
  timeoutMs: (device) => (3 * device.limits.actionTimeoutSeconds + device.limits.deviceReturnSeconds + 180) * 1000 + 2 * lockWaitMs(device),
  skipReason(device, env) {
    const cc = device.credentialChange;
    if (!cc) return 'no credentialChange action declared';
    if (!env.interactive && cc.operator) return 'the credential change is an operator step and this run is non-interactive';
    return null;
  },
  async run(ctx) {
    const cc = ctx.device.credentialChange!;
    const cred = ctx.device.credentials[cc.account];
    const username = cred.username;
    const original = cred.password!;
    const { ifaces, untried } = interfacesOf(ctx, cc.account);
    const facts: CredentialChangeFacts = { account: cc.account, username, interfaces: [], restored: true, restoreDetail: 'nothing was changed' };
    const left = readSecrets(ctx);
    if (left) {
      ctx.secrets.add(left.new);
      facts.recovered = await recover(ctx, cc, ifaces, left);
    }
    let restartFacts: RestartFacts | undefined;
    const observations = (): Observation[] => {
      const out: Observation[] = [
        {
          kind: CredentialChangeFact.kind,
          summary: `credential "${cc.account}" on ${ifaces.length} interface(s): ${facts.interfaces
            .map((i) => `${i.where} new ${i.changed?.new.result ?? '-'}, old ${i.changed?.old.result ?? '-'}`)
            .join('; ')}; ${facts.restored ? 'changed back' : `NOT changed back: ${facts.restoreDetail}`}`,
          data: { ...facts },
        },
      ];
      if (restartFacts)
        out.push({
          kind: RestartPersistenceFact.kind,
          summary: `restart: ${restartFacts.restart.request}; back after ${Math.round(restartFacts.returned.afterMs / 1000)} s; version ${restartFacts.versionBefore ?? '?'} → ${restartFacts.versionAfter ?? '?'}`,
          data: { ...restartFacts },
        });
      return out;
    };
    // Logins of the account starbench has no adapter for: part of the result, as not tried.
    const notTried: InterfaceLogins[] = untried.map((where) => ({
      where,
      port: Number(/ (\d+)/.exec(where)?.[1] ?? 0),
      protocol: where.split(' ')[0],
      before: { result: 'unknown', detail: 'no login adapter for this protocol: the values cannot be tried here' },
    }));
    if (ifaces.length === 0) {
      facts.interfaces = notTried;
      facts.restoreDetail = `no declared login starbench can try (auth[] with a password scheme) uses credential "${cc.account}": nothing was changed`;
      return { observations: observations() };
    }

    // 1. The controls: the lab value logs in, and a random wrong value is refused, everywhere; else a refusal later proves nothing there.
    const records = ifaces.map((i) => ({ where: i.where, port: i.target.port, protocol: i.target.protocol }) as InterfaceLogins);
    for (const [n, i] of ifaces.entries()) {
      records[n].before = await tryLogin(ctx, i, username, original, false);
      if (records[n].before.result !== 'accepted') continue;
      const any = await tryLogin(ctx, i, username, freshValue(), true);
      records[n].anyValue = any;
      if (any.result !== 'refused')
        records[n].before = {
          result: 'unknown',
          detail: `the lab value logs in, but a random value was ${any.result} too (${any.detail}): this login refuses nothing`,
        };
    }
    facts.interfaces = [...records, ...notTried];
    if (!records.some((r) => r.before.result === 'accepted')) {
      facts.restoreDetail = 'the lab value logs in nowhere: nothing was changed';
      return { observations: observations() };
    }

    // 2. The change, its new value on disk first (an action that cannot carry the values fails here, before anything changed).
    const fresh = freshValue();
    ctx.secrets.add(fresh);
    const changeAction = fillAction(cc, { old: original, new: fresh, username });
    writeSecrets(ctx, { account: cc.account, username, original, new: fresh, at: new Date().toISOString() });
    facts.restored = false;
    facts.restoreDetail = 'the change back has not run';
    facts.currentValue = fresh;
    try {
      facts.change = (await runAction(ctx, 'credentialChange', changeAction)).record;
      await sleepUnlessAborted(ctx.signal, cc.settleSeconds * 1000);

      // 3. New accepted, old refused, on every interface (the new value first: it resets the failure counter).
      // An interface still on the old value is asked once more a little later: a device may apply a change late.
      for (let round = 0; round < 2; round++) {
        const pending = ifaces.map((i, n) => ({ i, n })).filter(({ n }) => round === 0 || records[n].changed?.new.result === 'refused');
        if (pending.length === 0) break;
        if (round > 0) await sleepUnlessAborted(ctx.signal, Math.max(LATE_CHANGE_MS, cc.settleSeconds * 1000));
        for (const { i, n } of pending)
          records[n].changed = await oldRefused(ctx, cc.account, i, { username, fresh, original }, records[n].before.result === 'accepted');
      }
      // What held: asked once more after holdSeconds (a device that rolls its config back a few seconds later).
      await holdsStill(ctx, cc, ifaces, records, 'changed', { username, fresh, original });
      const took = records.some((r) => r.changed?.new.result === 'accepted');

      // 4. Restart persistence, in the same session: the value the user set, and the firmware installed, kept.
      if (took && canRestart(ctx)) {
        const now = holding(ctx, cc.account, fresh);
        const versionBefore = await readVersion(now);
        const watched = await watchingSerial(now, async (console) => {
          const restart = await restartDevice(now, console);
          const returned = await waitForDevice(now, { settleMs: Math.max(1000, (ctx.device.update?.settleSeconds ?? 2) * 1000) });
          return { restart, returned };
        });
        const versionAfter = watched.value.returned.returned ? (watched.value.returned.version ?? (await readVersion(now))) : undefined;
        restartFacts = {
          ...watched.value,
          ...(watched.bootSeen !== undefined ? { bootSeen: watched.bootSeen } : {}),
          ...(watched.serialError ? { serialError: watched.serialError } : {}),
          versionBefore,
          versionAfter,
          versionHow: ctx.device.update?.version && !ctx.device.update.version.operator ? 'the update.version action' : 'no update.version action declared',
        };
        if (watched.value.returned.returned)
          for (const [n, i] of ifaces.entries())
            records[n].restarted = await oldRefused(
              ctx,
              cc.account,
              i,
              { username, fresh, original },
              records[n].changed?.new.result === 'accepted',
              Date.now() + LOGIN_RETRY_MS,
            );
        if (watched.value.returned.returned) await holdsStill(ctx, cc, ifaces, records, 'restarted', { username, fresh, original });
      }
    } finally {
      // 5. Back to the lab value, logging in with what the action's own interface accepted last. Also when the probe
      // was stopped (its timeout, the phase budget, Ctrl-C): under a bounded signal of its own, so that a device is
      // never left on a value only secrets.json knows when it could be put back.
      const back: ProbeContext = ctx.signal.aborted ? { ...ctx, signal: AbortSignal.timeout(CHANGE_BACK_MS) } : ctx;
      if (back !== ctx) ctx.log.warn({ account: cc.account }, 'the probe was stopped after changing the credential: changing it back');
      {
        const port = actionPort(changeAction);
        const mine = port === undefined ? undefined : records.find((r) => r.port === port);
        const last = mine?.restarted ?? mine?.changed;
        const loginWith = last?.new.result === 'accepted' ? fresh : last?.old.result === 'accepted' ? original : fresh;
        // The lab value is proven back where it logged in before the change (elsewhere it proves nothing either way).
        const worked = ifaces.filter((_, n) => records[n].before.result === 'accepted' || records[n].anyValue !== undefined);
        const anyNew = records.some((r) => r.changed?.new.result === 'accepted' || r.restarted?.new.result === 'accepted');
        if (!anyNew && facts.change && !facts.change.ok) {
          // The device refused the change and no interface took the new value: nothing to change back.
          const still: LoginResult[] = [];
          for (const i of worked) still.push(await tryLogin(back, i, username, original, true, Date.now() + LOGIN_RETRY_MS));
          worked.forEach((i, n) => (records[ifaces.indexOf(i)].restored = still[n]));
          facts.restored = still.every((l) => l.result === 'accepted');
          facts.restoreDetail = facts.restored
            ? 'the change was refused; the lab value still logs in everywhere'
            : 'the change was refused, and the lab value no longer logs in everywhere';
        } else {
          const r = await changeBack(back, cc, worked, username, fresh, original, loginWith);
          facts.changeBack = r.record;
          worked.forEach((i, n) => (records[ifaces.indexOf(i)].restored = r.logins[n]));
          facts.restored = r.ok;
          facts.restoreDetail = r.detail;
        }
        if (facts.restored) {
          dropSecrets(back);
          delete facts.currentValue;
        } else if (back.runDir) facts.restoreDetail += `; the value the device may hold is kept in ${SECRETS_FILE} of the run folder`;
      }
    }
    return { observations: observations() };
  },
};
