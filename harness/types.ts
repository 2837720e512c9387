/**
 * The vocabulary of the design as types: probes record observations, checks
 * turn observations plus declarations into verdicts.
 */
import type { DeviceConnector } from './connector';
import type { DeviceFile } from './device-file/schema';
import type { Logger } from './logger';
import type { ScopeGuard } from './scope';
import type { SecretRegistry } from './secrets';
import type { Verdict } from './verdict';

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

/** What a probe needs before it can run; when missing it skips with a reason. */
export type ProbeNeed = 'host' | 'serial' | 'update.install' | 'update.version' | 'reset' | 'credentials' | 'canaries';

export interface EvidenceWriter {
  /** Write an evidence file under the run folder; returns its relative path. */
  write(name: string, content: string | Buffer): string;
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
}

export interface ProbeOutput {
  observations: Observation[];
  evidence?: string[];
}

export interface Probe {
  id: string;
  title: string;
  needs: ProbeNeed[];
  /** Probes whose results this one reads (service discovery before logins). */
  dependsOn?: string[];
  /** Runs after every other probe (it disturbs the device: lockouts, waits). */
  runLast?: boolean;
  /** Spec clauses the probe serves (TS 103 701 test ids, EN 303 645 provisions). */
  clauses?: string[];
  /** Returns a reason to skip, or null to run. */
  skipReason?(device: DeviceFile): string | null;
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
}

export interface Check {
  id: string;
  title: string;
  /** What the check fails on, as in the design's table. */
  failsWhen: string;
  probes: string[];
  /** False until the probes behind it exist: the check then reports not-tested. */
  implemented: boolean;
  fix?: string;
  judge(input: JudgeInput): CheckJudgement;
}
