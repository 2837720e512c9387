/**
 * The vocabulary of the design as types: probes record observations, checks
 * turn observations plus declarations into verdicts.
 */
import type { DeviceConnector } from './connector';
import type { DeviceFile } from './device-file/schema';
import type { z } from 'zod';
import type { AuthLedger } from './auth-ledger';
import type { Logger } from './logger';
import type { ScopeGuard } from './scope';
import type { SecretRegistry } from './secrets';
import type { Report } from './report';
import type { Verdict } from './verdict';

/** A kind of observation and the zod schema of its data (harness/facts.ts: defineFact, factsOf). */
export interface FactKind<T = unknown> {
  /** The observation `kind` this schema describes, e.g. `tcp-port`. */
  readonly kind: string;
  readonly schema: z.ZodType<T>;
  /**
   * Whether one fact of this kind was *observed*, or is a look that could
   * not tell (a timeout, a reset, an unexpected answer, a budget reached):
   * null when observed, else why not. A pass or not-applicable that cites
   * an unknown fact is refused by the harness.
   */
  unknown?(data: T): string | null;
  /**
   * Certainty per part, for a fact made of steps a verdict may rest on one
   * by one (the update sequence: tampered, unsigned, genuine…): part name →
   * null when observed, else why not. A basis entry that names a part is
   * refused when that part is missing or unknown; one that names no part
   * rests on the whole fact, every part included.
   */
  parts?(data: T): Record<string, string | null>;
}

/** Facts a verdict rests on: every fact of `kind` recorded by `probe`. */
export interface FactRef {
  probe: string;
  kind: string;
  /** One part of the fact (FactKind.parts), when the verdict rests on that part only. */
  part?: string;
}

/** A fact a probe saw on the device. Never a judgement. */
export interface Observation {
  /** What kind of fact, e.g. `tcp-port`, `login-attempts`, `tls-version`. */
  kind: string;
  port?: number;
  protocol?: string;
  /** One line a person can read. */
  summary: string;
  data: Record<string, unknown>;
}

export type ProbeStatus = 'completed' | 'skipped' | 'failed' | 'timed-out' | 'cancelled' | 'not-implemented';

export interface ProbeResult {
  probe: string;
  status: ProbeStatus;
  /** Why it skipped, failed, timed out or was cancelled. */
  reason?: string;
  startedAt?: string;
  durationMs: number;
  observations: Observation[];
  /** Evidence files, relative to the run folder. */
  evidence: string[];
}

/**
 * The order of disruptive probes, declared here and nowhere else: the UART
 * first (it only reads, and a later reboot would change what it shows), then
 * the watch of what the device sends on its own (a quiet bench, the device
 * as it came, its cloud link cut only by the opt-in MITM), then brute force (lockouts are waited out), then updates, then credential change
 * and restart persistence (one shared restart), an opt-in load test (it may
 * take the device down) and the factory reset last, because a reset may
 * restore the lab credential and wipe what the others need.
 */
export const DISRUPTIVE_ORDER = ['serial-console', 'traffic', 'brute-force', 'update', 'credential-change', 'restart', 'load', 'factory-reset'] as const;
export type DisruptivePhase = (typeof DISRUPTIVE_ORDER)[number];

/** What a probe needs before it can run; when missing it skips with a reason. */
export type ProbeNeed = 'host' | 'serial' | 'update.install' | 'update.version' | 'reset' | 'credentials' | 'canaries';

export interface EvidenceWriter {
  /** Write an evidence file under the run folder; returns its relative path. */
  write(name: string, content: string | Buffer): string;
}

/** A person at the bench who can do what starbench cannot (power-cycle, press a reset button). */
export interface Operator {
  /** Show instructions; resolves true when the person confirms it is done, false when they decline. */
  confirm(instructions: string, signal: AbortSignal): Promise<boolean>;
  /** Ask for a value the person reads off the device (a version shown in an app). */
  ask(question: string, signal: AbortSignal): Promise<string>;
}

export interface ProbeContext {
  device: DeviceFile;
  connector: DeviceConnector;
  scope: ScopeGuard;
  secrets: SecretRegistry;
  log: Logger;
  signal: AbortSignal;
  evidence: EvidenceWriter;
  /** Results of the probes named in `dependsOn`. */
  dependency(probeId: string): ProbeResult | undefined;
  /** Show the operator a progress line (brute-force waits, slow steps). */
  progress(message: string): void;
  /** The person at the bench; absent in --non-interactive runs. */
  operator?: Operator;
  /** The device's lockout ledger, shared by every probe of the run (harness/auth-ledger.ts). */
  auth: AuthLedger;
  /**
   * The run folder, for state that is not evidence and must survive a crash (a credential change's
   * secrets.json, read again by `resume`); absent outside a run.
   */
  runDir?: string;
}

/** What a probe may consider when deciding to skip. */
export interface RunEnvironment {
  /** False with --non-interactive (or no terminal): operator steps cannot happen. */
  interactive: boolean;
}

export interface ProbeOutput {
  observations: Observation[];
  evidence?: string[];
}

export interface Probe {
  id: string;
  title: string;
  needs: ProbeNeed[];
  /** Every kind of observation it records, with its schema: validated when it ends and when a saved run is read. */
  facts: readonly FactKind[];
  /** Probes whose results this one reads (service discovery before logins). */
  dependsOn?: string[];
  /**
   * A disruptive probe (lockouts, installs, resets) runs after every ordinary
   * probe, one at a time, in the one order of DISRUPTIVE_ORDER.
   */
  disruptive?: DisruptivePhase;
  /**
   * A disruptive probe that, for this device, disturbs nothing the others use
   * (the UART read when no restart is declared: a channel of its own, the
   * network untouched) runs side by side with the ordinary probes, under the
   * same deadline, instead of waiting for its turn.
   */
  sideBySide?(device: DeviceFile): boolean;
  /** A longer per-probe timeout than the device's default (installs that reboot the device). */
  timeoutMs?(device: DeviceFile): number;
  /** Spec clauses the probe serves (TS 103 701 test ids, EN 303 645 provisions). */
  clauses?: string[];
  /** Returns a reason to skip, or null to run. */
  skipReason?(device: DeviceFile, env: RunEnvironment): string | null;
  run(ctx: ProbeContext): Promise<ProbeOutput>;
}

export type FindingSeverity = 'high' | 'medium' | 'low' | 'info';

export interface Finding {
  severity: FindingSeverity;
  message: string;
  port?: number;
  protocol?: string;
}

export interface CheckJudgement {
  verdict: Verdict;
  rationale: string;
  findings: Finding[];
  /**
   * The facts a `pass` or `not-applicable` rests on. Required for those two
   * verdicts: the harness refuses either when it cites nothing, or when any
   * cited fact is not an observed one (FactKind.unknown).
   */
  basis?: FactRef[];
  /**
   * The verdict per service ("tcp/443"), for a check that tests services one by one: a decision tree walked per
   * interface takes a `pass` only for a service listed here (another was not tested by it).
   */
  ports?: Record<string, Verdict>;
}

export interface CheckResult extends CheckJudgement {
  id: string;
  title: string;
  /** How to fix a failure, for the manufacturer. */
  fix?: string;
  /** Probe ids and evidence files that back the verdict. */
  evidence: string[];
}

export interface JudgeInput {
  device: DeviceFile;
  result(probeId: string): ProbeResult | undefined;
  reveal: boolean;
  /** Other units' key fingerprints, from their saved runs (`starbench report --compare-keys`): crypto.unique-device-keys. */
  peers?: readonly UnitKeys[];
}

/** One other unit's key fingerprints, read from its saved run. */
export interface UnitKeys {
  runId: string;
  device: string;
  /** The model the other run's device file declares: a unit of another model is no comparison. */
  model?: string;
  keys: Array<{ where: string; kind: string; sha256: string }>;
  /** Why some of its keys may be missing: a probe of that run that did not complete. */
  unread: string[];
}

export interface Check {
  id: string;
  title: string;
  /** What the check fails on, as in the design's table. */
  failsWhen: string;
  probes: string[];
  /**
   * Probes planned with the check whose results its judge reads when they ran
   * (other channels to search); unlike `probes`, their absence does not by
   * itself block a pass — the judge decides.
   */
  alsoReads?: string[];
  /** False until the probes behind it exist: the check then reports not-tested. */
  implemented: boolean;
  fix?: string;
  judge(input: JudgeInput): CheckJudgement;
}

/* Reporting: every output format implements Reporter (reports/); the runner sees one RunReporter. */

export interface RunBeginInfo {
  runId: string;
  runDir: string;
  deviceName: string;
  host: string;
  profileId: string;
  probes: Array<{ id: string; title: string }>;
  checks: string[];
}

export interface Reporter {
  readonly name: string;
  onRunBegin?(info: RunBeginInfo): void | Promise<void>;
  onProbeBegin?(probe: { id: string; title: string }): void;
  onProbeProgress?(probe: string, message: string): void;
  onProbeEnd?(result: ProbeResult): void;
  onCheckEnd?(result: CheckResult): void;
  /** Write outputs. `outDir` is where files go (the run folder, or report --out). */
  onRunEnd?(report: Report, outDir: string): void | Promise<void>;
}

export interface ReporterError {
  reporter: string;
  hook: string;
  message: string;
}

/** What the runner talks to: the reporters of a run behind one object that never throws. */
export interface RunReporter {
  readonly errors: ReporterError[];
  /** Also append later reporter errors to this list (the report's `errors`). */
  collectInto(list: Array<{ where: string; message: string }>): void;
  onRunBegin(info: RunBeginInfo): Promise<void>;
  onProbeBegin(probe: { id: string; title: string }): void;
  onProbeProgress(probe: string, message: string): void;
  onProbeEnd(result: ProbeResult): void;
  onCheckEnd(result: CheckResult): void;
  onRunEnd(report: Report, outDir: string): Promise<void>;
}
