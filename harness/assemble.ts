/**
 * Builds the report object from a run's saved state. Used by the runner at the
 * end of a run and by `starbench report` when re-judging saved observations.
 */
import type { Decision } from './decision-tree';
import { factOf, FirmwareVersionFact } from './facts';
import { checksForProfile, judgeCheck, judgeRequirements } from './judge';
import type { Profile } from './profile';
import type { ReviewAnswer } from './review';
import type { AuthLedgerSummary } from './auth-ledger';
import { REPORT_SCHEMA_VERSION, type Report } from './report';
import type { DeviceFile } from './device-file/schema';
import type { Check, CheckResult, JudgeInput, Probe, ProbeResult } from './types';
import { countVerdicts, exitCodeFor, runSummary } from './verdict';
import { TOOL_VERSION } from './version';
import { destinationTable } from './traffic';

export interface RunMeta {
  id: string;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  incomplete: boolean;
  interruptedBy?: 'signal' | 'deadline';
  rejudgedAt?: string;
  /** When an interrupted run was finished by `starbench resume`. */
  resumedAt?: string;
  /** Probes that had begun before the run was interrupted and ran again on resume (their first try left no result). */
  repeated?: string[];
  /** Peak resident memory of the process that ran the probes, KiB. */
  peakRssKb?: number;
}

export interface AssembleInput {
  meta: RunMeta;
  device: DeviceFile;
  profile: Profile;
  checks: ReadonlyMap<string, Check>;
  probes: ReadonlyMap<string, Probe>;
  results: ReadonlyMap<string, ProbeResult>;
  only?: ReadonlySet<string>;
  reveal: boolean;
  errors?: Array<{ where: string; message: string }>;
  /** The run's lockout ledger: failures counted, lock signals, waits for access (absent when re-judging). */
  authLedger?: AuthLedgerSummary;
  /** Reviewer answers beyond the device file's `review:` (`starbench report --answers`). */
  answers?: readonly ReviewAnswer[];
  /** Reviewer answers to decision-tree nodes (`--answers` files: decisions). */
  decisions?: readonly Decision[];
  /** Other units' key fingerprints, from their saved runs (`--compare-keys`). */
  peers?: JudgeInput['peers'];
  onCheck?: (r: CheckResult) => void;
}

function observedFirmware(results: ReadonlyMap<string, ProbeResult>): string | undefined {
  for (const r of results.values()) {
    const seen = r.status === 'completed' ? factOf(r, FirmwareVersionFact) : undefined;
    if (seen) return seen.version;
  }
  return undefined;
}

export function assembleReport(input: AssembleInput): Report {
  const { device, profile, results } = input;
  const checkIds = checksForProfile(profile);
  const checkResults = new Map<string, CheckResult>();
  for (const id of checkIds) {
    const r = judgeCheck(id, { device, checks: input.checks, probes: input.probes, results, reveal: input.reveal, only: input.only, peers: input.peers });
    checkResults.set(id, r);
    input.onCheck?.(r);
  }
  const requirements = judgeRequirements(profile, checkResults, device, [...(device.review ?? []), ...(input.answers ?? [])], input.decisions);
  const run = runSummary(requirements);
  const summary = run.verdict;
  const notAttempted: Array<{ what: string; why: string }> = [];
  for (const r of results.values()) {
    if (r.status !== 'completed') notAttempted.push({ what: `probe ${r.probe}`, why: `${r.status}${r.reason ? `: ${r.reason}` : ''}` });
  }
  for (const c of checkResults.values()) {
    if (c.verdict === 'not-tested') notAttempted.push({ what: `check ${c.id}`, why: c.rationale });
  }
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: 'starbench', version: TOOL_VERSION },
    run: input.meta,
    device: {
      name: device.device.name,
      model: device.device.model,
      host: device.target.host,
      firmware: { declared: device.device.firmware, observed: observedFirmware(results) },
    },
    profile: { id: profile.id, title: profile.title, scheme: profile.scheme, version: profile.version },
    summary: {
      verdict: summary,
      counts: countVerdicts(requirements.map((r) => r.verdict)),
      exitCode: exitCodeFor(summary),
      status: run.status,
      ...(run.untested.length ? { untested: run.untested } : {}),
    },
    requirements,
    checks: [...checkResults.values()],
    observations: Object.fromEntries(results),
    scope: {
      target: device.target.host,
      serial: device.target.serial?.path,
      connectionLimit: device.limits.connections,
      notAttempted,
    },
    errors: input.errors ?? [],
    authLedger: input.authLedger,
    ...(results.has('traffic') ? { destinations: destinationTable(results.get('traffic'), device.traffic?.declaredDestinations) } : {}),
  };
}
