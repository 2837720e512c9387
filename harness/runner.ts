/**
 * Runs one assessment: plan (profile → checks → probes), run each probe once
 * under a per-probe timeout, a global deadline and the device's connection
 * limit, journal every step, judge, report. Teardown always runs.
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { assembleReport, type RunMeta } from './assemble';
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
import type { SecretRegistry } from './secrets';
import { validateProbeResult } from './facts';
import type { Check, Operator, Probe, ProbeContext, ProbeResult, RunReporter } from './types';

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
  probeTimeoutMs?: number;
  deadlineMs?: number;
  /** The person at the bench; absent in --non-interactive runs (operator steps become not-tested). */
  operator?: Operator;
  /** A fleet's global connection cap, shared by every device's connector. */
  globalSlots?: Semaphore;
  /** Resuming an interrupted run: the probe results it already has (not run again) and when it started. */
  resume?: { results: ReadonlyMap<string, ProbeResult>; startedAt: string };
}

export interface RunOutcome {
  report: Report;
  results: Map<string, ProbeResult>;
  peakConnections: number;
}

class AbortReason extends Error {
  constructor(readonly why: 'signal' | 'deadline' | 'probe-timeout', message: string) {
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

export async function executeRun(opts: RunOptions): Promise<RunOutcome> {
  const { device, profile, log, secrets } = opts;
  const startedAt = opts.resume ? new Date(opts.resume.startedAt) : new Date();
  const resumedAt = new Date();
  const limits = device.limits;
  const probeTimeoutMs = opts.probeTimeoutMs ?? limits.probeTimeoutSeconds * 1000;
  const deadlineMs = opts.deadlineMs ?? limits.deadlineSeconds * 1000;
  mkdirSync(path.join(opts.runDir, 'evidence'), { recursive: true });
  const journal = new Journal(path.join(opts.runDir, 'journal.jsonl'), secrets);
  const errors: Array<{ where: string; message: string }> = [];

  const checkIds = checksForProfile(profile, opts.only);
  const probeIds = planProbes(checkIds, opts.checks, opts.probes);
  const reused = new Set(probeIds.filter((id) => opts.resume?.results.has(id)));
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
    ...(opts.resume ? { reused: [...reused], rerun: probeIds.filter((id) => !reused.has(id)) } : {}),
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

  const run = new AbortController();
  const onOuterAbort = (): void => run.abort(new AbortReason('signal', 'run interrupted'));
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const deadline = setTimeout(() => run.abort(new AbortReason('deadline', `run deadline of ${Math.round(deadlineMs / 1000)} s reached`)), deadlineMs);

  const scope = new ScopeGuard(device.target);
  let scopeError: string | undefined;
  try {
    await Promise.race([scope.resolve(), abortPromise(run.signal)]);
  } catch (err) {
    scopeError = errorMessage(err);
    errors.push({ where: 'resolve target', message: scopeError });
  }
  const connector = new DeviceConnector(scope, limits.connections, limits.connectTimeoutMs, opts.globalSlots);
  const results = new Map<string, ProbeResult>();

  const finish = (r: ProbeResult): ProbeResult => {
    const masked = secrets.maskDeep(r);
    results.set(r.probe, masked);
    journal.write({ type: 'probe-end', result: masked });
    log.info({ probe: r.probe, status: r.status, durationMs: r.durationMs, reason: r.reason }, 'probe finished');
    opts.reporter.onProbeEnd(masked);
    return masked;
  };

  const runOne = async (id: string): Promise<ProbeResult> => {
    const saved = opts.resume?.results.get(id);
    const earlier = saved ? validateProbeResult(saved, opts.probes.get(id)?.facts) : undefined;
    if (earlier) {
      // Already in the journal from the interrupted run: reuse, do not repeat against the device.
      results.set(id, earlier);
      opts.reporter.onProbeEnd(earlier);
      return earlier;
    }
    const probe = opts.probes.get(id);
    const empty = { probe: id, durationMs: 0, observations: [], evidence: [] };
    if (!probe) return finish({ ...empty, status: 'not-implemented', reason: 'probe not implemented in this version of starbench' });
    if (run.signal.aborted) {
      const why = run.signal.reason instanceof AbortReason ? run.signal.reason : undefined;
      return finish({ ...empty, status: why?.why === 'deadline' ? 'timed-out' : 'cancelled', reason: `${why?.message ?? 'run stopped'} before this probe started` });
    }
    if (scopeError) return finish({ ...empty, status: 'failed', reason: `target not usable: ${scopeError}` });
    const skip = probe.skipReason?.(device, { interactive: opts.operator !== undefined }) ?? null;
    if (skip) return finish({ ...empty, status: 'skipped', reason: skip });
    for (const dep of probe.dependsOn ?? []) {
      const d = results.get(dep);
      if (d && d.status !== 'completed') return finish({ ...empty, status: 'skipped', reason: `needs probe ${dep}, which ${d.status}${d.reason ? ` (${d.reason})` : ''}` });
    }

    const ctl = new AbortController();
    // Every in-flight attempt of a probe listens on its signal; dozens is normal, not a leak.
    setMaxListeners(256, ctl.signal);
    const onRunAbort = (): void => ctl.abort(run.signal.reason);
    run.signal.addEventListener('abort', onRunAbort, { once: true });
    const timeoutMs = Math.max(probeTimeoutMs, probe.timeoutMs?.(device) ?? 0);
    const timer = setTimeout(() => ctl.abort(new AbortReason('probe-timeout', `probe ${id} did not finish within ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
    const started = Date.now();
    const startedIso = new Date(started).toISOString();
    const evidence: string[] = [];
    const plog = log.child({ probe: id });
    const ctx: ProbeContext = {
      device,
      connector,
      scope,
      secrets,
      log: plog,
      signal: ctl.signal,
      evidence: {
        write(name, content) {
          const rel = path.join('evidence', `${id}-${name.replace(/[^A-Za-z0-9._-]/g, '_')}`);
          writeFileSync(path.join(opts.runDir, rel), typeof content === 'string' ? secrets.mask(content) : content);
          evidence.push(rel);
          return rel;
        },
      },
      dependency: (dep) => results.get(dep),
      progress: (message) => {
        plog.info({ progress: message }, 'progress');
        opts.reporter.onProbeProgress(id, message);
      },
      operator: opts.operator,
    };
    journal.write({ type: 'probe-begin', probe: id });
    opts.reporter.onProbeBegin({ id, title: probe.title });
    try {
      const out = await Promise.race([probe.run(ctx), abortPromise(ctl.signal)]);
      // Every observation must match the kinds the probe declares: a malformed one is the probe's error, never read by a check.
      const done: ProbeResult = { probe: id, status: 'completed', startedAt: startedIso, durationMs: Date.now() - started, observations: out.observations, evidence: [...evidence, ...(out.evidence ?? [])] };
      return finish(validateProbeResult(done, probe.facts));
    } catch (err) {
      const reason = ctl.signal.aborted ? ctl.signal.reason : err;
      const status = reason instanceof AbortReason ? (reason.why === 'signal' ? 'cancelled' : 'timed-out') : 'failed';
      return finish({ probe: id, status, reason: errorMessage(reason), startedAt: startedIso, durationMs: Date.now() - started, observations: [], evidence });
    } finally {
      clearTimeout(timer);
      run.signal.removeEventListener('abort', onRunAbort);
      if (!ctl.signal.aborted) ctl.abort(new AbortReason('probe-timeout', 'probe finished'));
    }
  };

  const memo = new Map<string, Promise<ProbeResult>>();
  const rank = (x: string): number | undefined => opts.probes.get(x)?.runLast;
  // Disruptive probes, one after another: least destructive first (a reset last).
  const disruptive = probeIds.filter((x) => rank(x) !== undefined).sort((a, b) => rank(a)! - rank(b)!);
  const exec = (id: string): Promise<ProbeResult> => {
    let p = memo.get(id);
    if (!p) {
      p = (async () => {
        const probe = opts.probes.get(id);
        await Promise.all((probe?.dependsOn ?? []).map(exec));
        if (probe?.runLast !== undefined) {
          // Wait for every ordinary probe, then for the disruptive one before this.
          await Promise.all(probeIds.filter((x) => rank(x) === undefined && x !== id).map(exec));
          const before = disruptive[disruptive.indexOf(id) - 1];
          if (before) await exec(before);
        }
        return runOne(id);
      })();
      memo.set(id, p);
    }
    return p;
  };
  try {
    await Promise.all(probeIds.map(exec));
  } finally {
    clearTimeout(deadline);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    const left = connector.destroyAll();
    if (left > 0) log.debug({ sockets: left }, 'teardown closed connections left open');
  }

  const finishedAt = new Date();
  const interrupted = run.signal.reason instanceof AbortReason ? run.signal.reason.why : undefined;
  const meta: RunMeta = {
    id: opts.runId,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    incomplete: interrupted === 'signal' || interrupted === 'deadline',
    interruptedBy: interrupted === 'signal' || interrupted === 'deadline' ? interrupted : undefined,
    resumedAt: opts.resume ? resumedAt.toISOString() : undefined,
    // Peak resident memory of this process so far (KiB on Linux): benchmarks and hostile-device tests read it.
    peakRssKb: process.resourceUsage().maxRSS,
  };
  const report = assembleReport({
    meta,
    device,
    profile,
    checks: opts.checks,
    probes: opts.probes,
    results,
    only: opts.only,
    reveal: secrets.reveal,
    errors,
    onCheck: (c) => {
      journal.write({ type: 'check-end', check: c.id, verdict: c.verdict, rationale: c.rationale });
      opts.reporter.onCheckEnd(c);
    },
  });
  const masked = secrets.maskDeep(report);
  // Reporter failures land in the report itself; the json reporter runs last so it sees them.
  opts.reporter.collectInto(masked.errors);
  await opts.reporter.onRunEnd(masked, opts.runDir);
  journal.write({ type: 'run-end', meta, summary: masked.summary, reporterErrors: opts.reporter.errors });
  journal.close();
  return { report: masked, results, peakConnections: connector.slots.peak };
}
