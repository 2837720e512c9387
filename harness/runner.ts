/**
 * Runs one assessment as a sequence of phases, each a titled task with its
 * own teardown: plan (profile → checks → probes) → target (resolve, scope) →
 * probes (discovery and ordinary probes side by side as their dependencies
 * allow, then the disruptive ones one at a time in DISRUPTIVE_ORDER) →
 * judge → report. Every probe runs once under a per-probe timeout, the run's
 * deadline and the device's connection limit; the journal records each step;
 * teardown always runs.
 */
import { setMaxListeners } from 'node:events';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assembleReport, type RunMeta } from './assemble';
import { AuthLedger } from './auth-ledger';
import { DeviceConnector } from './connector';
import type { DeviceFile } from './device-file/schema';
import { errorMessage } from './errors';
import { Journal } from './journal';
import type { Semaphore } from './limiter';
import { checksForProfile } from './judge';
import type { Logger } from './logger';
import type { Profile } from './profile';
import type { Report } from './report';
import { ScopeGuard } from './scope';
import { SECRETS_FILE, type SecretRegistry } from './secrets';
import { REDIRECT_NOTE } from './traffic';
import { validateProbeResult } from './facts';
import { DISRUPTIVE_ORDER, type Check, type Operator, type Probe, type ProbeContext, type ProbeResult, type RunReporter } from './types';

export interface RunOptions {
  device: DeviceFile;
  profile: Profile;
  /** How the profile was named (a built-in id or a catalog file path), for `resume` and `report`. */
  profileRef?: string;
  probes: ReadonlyMap<string, Probe>;
  checks: ReadonlyMap<string, Check>;
  runDir: string;
  runId: string;
  reporter: RunReporter;
  log: Logger;
  secrets: SecretRegistry;
  only?: ReadonlySet<string>;
  /** Aborted on Ctrl-C: no new work starts, running probes are cancelled. */
  signal?: AbortSignal;
  /**
   * Aborted when the run should stop after the probes in progress (a campaign agent told to stop): no new probe
   * starts, the running ones finish, and the run ends interrupted, to be resumed where it stopped.
   */
  drain?: AbortSignal;
  probeTimeoutMs?: number;
  deadlineMs?: number;
  /** The person at the bench; absent in --non-interactive runs (operator steps become not-tested). */
  operator?: Operator;
  /** A fleet's global connection cap, shared by every device's connector. */
  globalSlots?: Semaphore;
  /** Resuming an interrupted run: the probe results it already has (not run again) and when it started. */
  resume?: {
    results: ReadonlyMap<string, ProbeResult>;
    startedAt: string;
    /** Probes that had begun and left no result (SavedRun.repeated): they run again, and the report says so. */
    repeated?: readonly string[];
  };
}

export interface RunOutcome {
  report: Report;
  results: Map<string, ProbeResult>;
  peakConnections: number;
}

class AbortReason extends Error {
  constructor(
    readonly why: 'signal' | 'deadline' | 'phase-timeout' | 'probe-timeout',
    message: string,
  ) {
    super(message);
  }
}

/** Probe ids needed by the selected checks, dependencies first. */
export function planProbes(checkIds: readonly string[], checks: ReadonlyMap<string, Check>, probes: ReadonlyMap<string, Probe>): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (id: string): void => {
    if (order.includes(id) || visiting.has(id)) return;
    visiting.add(id);
    for (const dep of probes.get(id)?.dependsOn ?? []) visit(dep);
    visiting.delete(id);
    order.push(id);
  };
  for (const c of checkIds) {
    const check = checks.get(c);
    if (check?.implemented) [...check.probes, ...(check.alsoReads ?? [])].forEach(visit);
  }
  return order;
}

function abortPromise(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** Everything one run shares between its phases. */
interface RunState {
  opts: RunOptions;
  journal: Journal;
  errors: Array<{ where: string; message: string }>;
  startedAt: Date;
  resumedAt: Date;
  probeTimeoutMs: number;
  deadlineMs: number;
  checkIds: string[];
  probeIds: string[];
  /** On resume: the probes that had begun before the interruption and run again. */
  repeated: string[];
  results: Map<string, ProbeResult>;
  /** Aborted by Ctrl-C (signal) or the deadline: no new probe starts, running ones are cancelled. */
  abort: AbortController;
  scope: ScopeGuard;
  scopeError?: string;
  connector: DeviceConnector;
  /** One lockout ledger for the device, shared by every probe. */
  auth: AuthLedger;
  teardown: Array<() => void>;
}

/** Phase "plan": checks from the profile, probes from the checks, the journal's first event. */
async function plan(opts: RunOptions): Promise<RunState> {
  const { device, profile, secrets } = opts;
  const limits = device.limits;
  const probeTimeoutMs = opts.probeTimeoutMs ?? limits.probeTimeoutSeconds * 1000;
  const deadlineMs = opts.deadlineMs ?? limits.deadlineSeconds * 1000;
  mkdirSync(path.join(opts.runDir, 'evidence'), { recursive: true });
  const journal = new Journal(path.join(opts.runDir, 'journal.jsonl'), secrets);
  const checkIds = checksForProfile(profile, opts.only);
  const probeIds = planProbes(checkIds, opts.checks, opts.probes);
  const reused = new Set(probeIds.filter((id) => opts.resume?.results.has(id)));
  const repeated = probeIds.filter((id) => !reused.has(id) && opts.resume?.repeated?.includes(id));
  journal.write({
    type: opts.resume ? 'run-resume' : 'run-begin',
    runId: opts.runId,
    deviceFile: device.sourcePath,
    deviceFileSha256: device.sha256,
    device: secrets.maskDeep(device),
    profile: profile.id,
    ...(opts.profileRef && opts.profileRef !== profile.id ? { profileSource: opts.profileRef } : {}),
    only: opts.only ? [...opts.only] : undefined,
    plan: { checks: checkIds, probes: probeIds },
    limits: { probeTimeoutMs, deadlineMs, connections: limits.connections },
    ...(opts.resume ? { reused: [...reused], rerun: probeIds.filter((id) => !reused.has(id)), repeated } : {}),
  });
  await opts.reporter.onRunBegin({
    runId: opts.runId,
    runDir: opts.runDir,
    deviceName: device.device.name,
    host: device.target.host,
    profileId: profile.id,
    probes: probeIds.map((id) => ({ id, title: opts.probes.get(id)?.title ?? id })),
    checks: checkIds,
  });
  const scope = new ScopeGuard(device.target, device.power);
  const state: RunState = {
    opts,
    journal,
    errors: [],
    startedAt: opts.resume ? new Date(opts.resume.startedAt) : new Date(),
    resumedAt: new Date(),
    probeTimeoutMs,
    deadlineMs,
    checkIds,
    probeIds,
    repeated,
    results: new Map(),
    abort: new AbortController(),
    scope,
    connector: new DeviceConnector(scope, limits.connections, limits.connectTimeoutMs, opts.globalSlots),
    auth: new AuthLedger(device),
    teardown: [],
  };
  // Ctrl-C and the deadline stop the run; both are undone in teardown.
  const onOuterAbort = (): void => state.abort.abort(new AbortReason('signal', 'run interrupted'));
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline = setTimeout(() => state.abort.abort(new AbortReason('deadline', `run deadline of ${Math.round(deadlineMs / 1000)} s reached`)), deadlineMs);
  state.teardown.push(
    () => clearTimeout(deadline),
    () => opts.signal?.removeEventListener('abort', onOuterAbort),
  );
  return state;
}

/** Phase "target": resolve the declared host once; every probe then sees the same scope. */
async function resolveTarget(run: RunState): Promise<void> {
  try {
    await Promise.race([run.scope.resolve(), abortPromise(run.abort.signal)]);
  } catch (err) {
    run.scopeError = errorMessage(err);
    run.errors.push({ where: 'resolve target', message: run.scopeError });
  }
}

function finish(run: RunState, r: ProbeResult): ProbeResult {
  const { secrets, log, reporter } = run.opts;
  const masked = secrets.maskDeep(r);
  run.results.set(r.probe, masked);
  run.journal.write({ type: 'probe-end', result: masked });
  log.info({ probe: r.probe, status: r.status, durationMs: r.durationMs, reason: r.reason }, 'probe finished');
  reporter.onProbeEnd(masked);
  return masked;
}

/** Why a probe cannot start now (a result to record), or null when it may run. */
function notRunnable(run: RunState, id: string, probe: Probe | undefined, signal: AbortSignal): ProbeResult | null {
  const empty = { probe: id, durationMs: 0, observations: [], evidence: [] };
  if (!probe) return { ...empty, status: 'not-implemented', reason: 'probe not implemented in this version of starbench' };
  if (signal.aborted) {
    const why = signal.reason instanceof AbortReason ? signal.reason : undefined;
    return { ...empty, status: why && why.why !== 'signal' ? 'timed-out' : 'cancelled', reason: `${why?.message ?? 'run stopped'} before this probe started` };
  }
  if (run.opts.drain?.aborted) return { ...empty, status: 'cancelled', reason: 'the run was stopping after the probes in progress before this probe started' };
  if (run.scopeError) return { ...empty, status: 'failed', reason: `target not usable: ${run.scopeError}` };
  const skip = probe.skipReason?.(run.opts.device, { interactive: run.opts.operator !== undefined }) ?? null;
  if (skip) return { ...empty, status: 'skipped', reason: skip };
  for (const dep of probe.dependsOn ?? []) {
    const d = run.results.get(dep);
    if (d && d.status !== 'completed')
      return { ...empty, status: 'skipped', reason: `needs probe ${dep}, which ${d.status}${d.reason ? ` (${d.reason})` : ''}` };
  }
  return null;
}

/** The context one probe runs with: its own abort signal, evidence folder, progress line and dependencies. */
function probeContext(run: RunState, id: string, signal: AbortSignal, evidence: string[]): ProbeContext {
  const { device, secrets, log, reporter, runDir, operator } = run.opts;
  const plog = log.child({ probe: id });
  return {
    device,
    connector: run.connector,
    scope: run.scope,
    secrets,
    log: plog,
    signal,
    evidence: {
      write(name, content) {
        const rel = path.join('evidence', `${id}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
        writeFileSync(path.join(runDir, rel), typeof content === 'string' ? secrets.mask(content) : content);
        evidence.push(rel);
        return rel;
      },
    },
    dependency: (dep) => run.results.get(dep),
    progress: (message) => {
      plog.info({ progress: message }, 'progress');
      reporter.onProbeProgress(id, message);
    },
    operator,
    auth: run.auth,
    runDir,
  };
}

/**
 * One probe, once: reused from an interrupted run, refused, or run under its timeout and validated against its
 * declared facts. `phase` is its phase's signal: Ctrl-C, the run's deadline or the phase's own budget.
 */
async function runProbe(run: RunState, id: string, phase: AbortSignal): Promise<ProbeResult> {
  const probe = run.opts.probes.get(id);
  const saved = run.opts.resume?.results.get(id);
  if (saved) {
    // Already in the journal from the interrupted run: reuse, do not repeat against the device.
    const earlier = validateProbeResult(saved, probe?.facts);
    run.results.set(id, earlier);
    run.opts.reporter.onProbeEnd(earlier);
    return earlier;
  }
  const refused = notRunnable(run, id, probe, phase);
  if (refused || !probe) return finish(run, refused ?? { probe: id, status: 'not-implemented', durationMs: 0, observations: [], evidence: [] });
  const ctl = new AbortController();
  // Every in-flight attempt of a probe listens on its signal; dozens is normal, not a leak.
  setMaxListeners(256, ctl.signal);
  const onRunAbort = (): void => ctl.abort(phase.reason);
  phase.addEventListener('abort', onRunAbort, { once: true });
  const timeoutMs = Math.max(run.probeTimeoutMs, probe.timeoutMs?.(run.opts.device) ?? 0);
  const timer = setTimeout(() => ctl.abort(new AbortReason('probe-timeout', `probe ${id} did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  const started = Date.now();
  const startedAt = new Date(started).toISOString();
  const evidence: string[] = [];
  run.journal.write({ type: 'probe-begin', probe: id });
  run.opts.reporter.onProbeBegin({ id, title: probe.title });
  try {
    const out = await Promise.race([probe.run(probeContext(run, id, ctl.signal, evidence)), abortPromise(ctl.signal)]);
    // Every observation must match the kinds the probe declares: a malformed one is the probe's error, never read by a check.
    const done: ProbeResult = {
      probe: id,
      status: 'completed',
      startedAt,
      durationMs: Date.now() - started,
      observations: out.observations,
      evidence: [...evidence, ...(out.evidence ?? [])],
    };
    return finish(run, validateProbeResult(done, probe.facts));
  } catch (err) {
    const reason = ctl.signal.aborted ? ctl.signal.reason : err;
    const status = reason instanceof AbortReason ? (reason.why === 'signal' ? 'cancelled' : 'timed-out') : 'failed';
    return finish(run, { probe: id, status, reason: errorMessage(reason), startedAt, durationMs: Date.now() - started, observations: [], evidence });
  } finally {
    clearTimeout(timer);
    phase.removeEventListener('abort', onRunAbort);
    if (!ctl.signal.aborted) ctl.abort(new AbortReason('probe-timeout', 'probe finished'));
  }
}

/** Where a disruptive probe stands in DISRUPTIVE_ORDER (undefined: it runs with the ordinary probes). */
function disruptiveRank(probe: Probe | undefined, device: DeviceFile): number | undefined {
  return probe?.disruptive === undefined || probe.sideBySide?.(device) ? undefined : DISRUPTIVE_ORDER.indexOf(probe.disruptive);
}

/**
 * Phases "ordinary probes" (side by side, each once its dependencies have
 * ended: service discovery first) and "disruptive probes" (one at a time, in
 * DISRUPTIVE_ORDER, after every ordinary probe). Each phase has its own
 * budget when the device file sets one (limits.phaseSeconds), so a hung
 * ordinary phase cannot eat the time the disruptive steps need.
 */
async function runProbes(run: RunState): Promise<void> {
  const { probes } = run.opts;
  const rank = (id: string): number | undefined => disruptiveRank(probes.get(id), run.opts.device);
  const ordinary = run.probeIds.filter((id) => rank(id) === undefined);
  const disruptive = run.probeIds.filter((id) => rank(id) !== undefined).sort((a, b) => rank(a)! - rank(b)!);
  const memo = new Map<string, Promise<ProbeResult>>();
  const exec = (id: string, signal: AbortSignal): Promise<ProbeResult> => {
    let p = memo.get(id);
    if (!p) {
      p = Promise.all((probes.get(id)?.dependsOn ?? []).map((d) => exec(d, signal))).then(() => runProbe(run, id, signal));
      memo.set(id, p);
    }
    return p;
  };
  const budgets = run.opts.device.limits.phaseSeconds;
  // Side by side, a slow service must not take every connection; one at a time, the probe has them all.
  run.connector.slots.keepOneFree = true;
  try {
    await phase(run, 'ordinary probes', async (signal) => void (await Promise.all(ordinary.map((id) => exec(id, signal)))), budgets?.ordinary);
  } finally {
    run.connector.slots.keepOneFree = false;
  }
  await phase(
    run,
    'disruptive probes',
    async (signal) => {
      for (const id of disruptive) await exec(id, signal);
    },
    budgets?.disruptive,
  );
}

/** Teardown: the deadline, the Ctrl-C listener, and every socket a probe left open. */
function closeRun(run: RunState): void {
  for (const t of run.teardown.splice(0)) t();
  const left = run.connector.destroyAll();
  if (left > 0) run.opts.log.debug({ sockets: left }, 'teardown closed connections left open');
}

/** A note a disruptive step leaves in the run folder while it has the device (or the bench) changed: one string field of it, or null when absent. */
function leftNote(runDir: string, file: string, field: string): { value: string | undefined } | null {
  const p = path.join(runDir, file);
  if (!existsSync(p)) return null;
  try {
    const v = (JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>)[field];
    return { value: typeof v === 'string' ? v : undefined };
  } catch {
    // an unreadable note still says the same thing
    return { value: undefined };
  }
}

/**
 * A credential change that was not undone leaves the run folder's secrets.json (probes/credential-change.ts): the
 * report must say so whatever became of the probe (a timeout loses its facts). Names the account, never the value.
 */
function credentialLeftChanged(runDir: string): string | undefined {
  const note = leftNote(runDir, SECRETS_FILE, 'account');
  if (!note) return undefined;
  const account = note.value ? `credential "${note.value}"` : 'the changed account';
  return `${SECRETS_FILE} is in the run folder: a credential change was not undone, and the device may now hold, for ${account}, the value written there (mode 600); change it back by hand, or run the credential change again in this run folder`;
}

/** The MITM test's redirect rules, if the run could not remove them (or died before it could): named, with the way out. */
function redirectLeft(runDir: string): string | undefined {
  const note = leftNote(runDir, REDIRECT_NOTE, 'table');
  if (!note) return undefined;
  const table = note.value ? `nftables table ip ${note.value}` : 'its nftables table';
  return `${REDIRECT_NOTE} is in the run folder: the MITM redirect (${table}) may still send the device's TLS connections to this bench; starbench resume on this folder removes it (or: nft delete table ip <table>)`;
}

/** Phases "judge" and "report": verdicts from the results, the report written, the journal closed. */
async function judgeAndReport(run: RunState): Promise<RunOutcome> {
  const { opts } = run;
  const started = Date.now();
  run.journal.write({ type: 'phase-begin', phase: 'judge and report' });
  const finishedAt = new Date();
  const interrupted = run.abort.signal.reason instanceof AbortReason ? run.abort.signal.reason.why : undefined;
  const meta: RunMeta = {
    id: opts.runId,
    startedAt: run.startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - run.startedAt.getTime(),
    incomplete: interrupted === 'signal' || interrupted === 'deadline',
    interruptedBy: interrupted === 'signal' || interrupted === 'deadline' ? interrupted : undefined,
    resumedAt: opts.resume ? run.resumedAt.toISOString() : undefined,
    repeated: run.repeated.length ? run.repeated : undefined,
    // Peak resident memory of this process so far (KiB on Linux): benchmarks and hostile-device tests read it.
    peakRssKb: process.resourceUsage().maxRSS,
  };
  const leftSecret = credentialLeftChanged(opts.runDir);
  if (leftSecret) run.errors.push({ where: 'credential change', message: leftSecret });
  const leftRedirect = redirectLeft(opts.runDir);
  if (leftRedirect) run.errors.push({ where: 'traffic MITM', message: leftRedirect });
  const report = assembleReport({
    meta,
    device: opts.device,
    profile: opts.profile,
    checks: opts.checks,
    probes: opts.probes,
    results: run.results,
    only: opts.only,
    reveal: opts.secrets.reveal,
    errors: run.errors,
    authLedger: run.auth.summary(),
    onCheck: (c) => {
      run.journal.write({ type: 'check-end', check: c.id, verdict: c.verdict, rationale: c.rationale });
      opts.reporter.onCheckEnd(c);
    },
  });
  const masked = opts.secrets.maskDeep(report);
  // Reporter failures land in the report itself; the json reporter runs last so it sees them.
  opts.reporter.collectInto(masked.errors);
  await opts.reporter.onRunEnd(masked, opts.runDir);
  run.journal.write({ type: 'phase-end', phase: 'judge and report', ms: Date.now() - started });
  run.journal.write({ type: 'run-end', meta, summary: masked.summary, reporterErrors: opts.reporter.errors, authLedger: masked.authLedger });
  run.journal.close();
  return { report: masked, results: run.results, peakConnections: run.connector.slots.peak };
}

/**
 * A titled phase: journaled when it begins and ends, with how long it took.
 * Its work gets the phase's own signal: aborted with the run (Ctrl-C, the
 * deadline) or when its budget (seconds) runs out; then the phase's running
 * probes are stopped, those not started are recorded timed-out, and the next
 * phase still runs.
 */
async function phase<T>(run: RunState, title: string, work: (signal: AbortSignal) => Promise<T>, budgetSeconds?: number): Promise<T> {
  const started = Date.now();
  const ctl = new AbortController();
  setMaxListeners(256, ctl.signal);
  const onRun = (): void => ctl.abort(run.abort.signal.reason);
  if (run.abort.signal.aborted) onRun();
  run.abort.signal.addEventListener('abort', onRun, { once: true });
  const timer =
    budgetSeconds === undefined
      ? undefined
      : setTimeout(
          () => ctl.abort(new AbortReason('phase-timeout', `phase "${title}" did not finish within its budget of ${budgetSeconds} s`)),
          budgetSeconds * 1000,
        );
  run.journal.write({ type: 'phase-begin', phase: title, ...(budgetSeconds === undefined ? {} : { budgetSeconds }) });
  try {
    return await work(ctl.signal);
  } finally {
    clearTimeout(timer);
    run.abort.signal.removeEventListener('abort', onRun);
    const timedOut = ctl.signal.reason instanceof AbortReason && ctl.signal.reason.why === 'phase-timeout';
    if (timedOut) run.errors.push({ where: `phase ${title}`, message: errorMessage(ctl.signal.reason) });
    run.journal.write({ type: 'phase-end', phase: title, ms: Date.now() - started, ...(timedOut ? { timedOut: true } : {}) });
  }
}

/** One assessment: plan → target → probes → judge → report; teardown always runs. */
export async function executeRun(opts: RunOptions): Promise<RunOutcome> {
  const run = await plan(opts);
  try {
    await phase(run, 'target', () => resolveTarget(run));
    await runProbes(run);
    // Stopped after the probes in progress: an interrupted run, resumed later from its journal.
    if (opts.drain?.aborted && !run.abort.signal.aborted && [...run.results.values()].some((r) => r.status === 'cancelled'))
      run.abort.abort(new AbortReason('signal', 'stopped after the probes in progress'));
  } finally {
    closeRun(run);
  }
  return judgeAndReport(run);
}
