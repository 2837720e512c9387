/**
 * A finished (or interrupted) run read back from its journal: the device as
 * declared, the plan, and every probe result, enough to judge it again.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { RunMeta } from './assemble';
import type { AuthLedgerSummary } from './auth-ledger';
import { deviceFileSchema, type DeviceFile } from './device-file/schema';
import { StarbenchError } from './errors';
import { readJournal } from './journal';
import { probeResultSchema } from './report';
import { validateProbeResult } from './facts';
import type { Probe, ProbeResult } from './types';

export interface SavedRun {
  dir: string;
  /** Where the device file was, and its SHA-256 then (resume reloads it: the journal holds only masked secrets). */
  deviceFile: string;
  deviceFileSha256?: string;
  /** True when the journal has no run-end: the run was killed. */
  unfinished: boolean;
  device: DeviceFile;
  profileId: string;
  only?: Set<string>;
  meta: RunMeta;
  /** The lockout ledger the run journaled at its end, shown again when the run is re-judged. */
  authLedger?: AuthLedgerSummary;
  results: Map<string, ProbeResult>;
  /**
   * Probes a resume runs again although they had begun: begun with no end in the journal, or ended cancelled
   * (interrupted mid-probe), plus what earlier resumes of this run already ran again.
   */
  repeated: string[];
}

/**
 * `probes`: the probes whose declared facts each saved result is validated
 * against (an observation that does not match makes that probe `failed`).
 */
export function loadSavedRun(dir: string, probes?: ReadonlyMap<string, Probe>): SavedRun {
  const file = path.join(dir, 'journal.jsonl');
  if (!existsSync(file)) throw new StarbenchError('RUN_DIR_INVALID', `${dir} is not a run folder: no journal.jsonl in it`);
  const events = readJournal(file);
  const begin = events.find((e) => e.type === 'run-begin');
  if (!begin) throw new StarbenchError('RUN_DIR_INVALID', `${file} has no run-begin event; the run did not start`);
  const saved = { ...(begin.device as Record<string, unknown>) };
  const sourcePath = String(saved.sourcePath ?? '<saved>');
  const baseDir = String(saved.baseDir ?? dir);
  delete saved.sourcePath;
  delete saved.baseDir;
  delete saved.sha256;
  const parsed = deviceFileSchema.safeParse(saved);
  if (!parsed.success)
    throw new StarbenchError('RUN_DIR_INVALID', `${file}: the saved device description does not validate: ${parsed.error.issues[0]?.message}`);
  const results = new Map<string, ProbeResult>();
  for (const e of events) {
    if (e.type !== 'probe-end') continue;
    const r = probeResultSchema.safeParse(e.result);
    if (r.success) {
      results.set(r.data.probe, validateProbeResult(r.data, probes?.get(r.data.probe)?.facts));
      continue;
    }
    // A torn or altered probe-end is that probe's error, never a silent gap.
    const id = (e.result as { probe?: unknown } | undefined)?.probe;
    if (typeof id === 'string') {
      const issue = r.error.issues[0];
      results.set(id, {
        probe: id,
        status: 'failed',
        reason: `its saved result in the journal does not validate: ${issue.path.join('.') || '(result)'} ${issue.message}`,
        durationMs: 0,
        observations: [],
        evidence: [],
      });
    }
  }
  const repeated = new Set<string>();
  const open = new Set<string>();
  for (const e of events) {
    if (e.type === 'run-resume' && Array.isArray(e.repeated)) for (const id of e.repeated) if (typeof id === 'string') repeated.add(id);
    if (e.type === 'probe-begin' && typeof e.probe === 'string') open.add(e.probe);
    const ended = (e.result as { probe?: unknown; status?: unknown } | undefined) ?? {};
    if (e.type === 'probe-end' && typeof ended.probe === 'string') {
      if (ended.status === 'cancelled') open.add(ended.probe);
      else open.delete(ended.probe);
    }
  }
  // The last run-end: a resumed run ends again after the interrupted one did.
  const end = [...events].reverse().find((e) => e.type === 'run-end');
  const startedAt = String(begin.at);
  const meta: RunMeta = end
    ? (end.meta as RunMeta)
    : {
        id: String(begin.runId),
        startedAt,
        finishedAt: String(events[events.length - 1].at),
        durationMs: Date.parse(String(events[events.length - 1].at)) - Date.parse(startedAt),
        incomplete: true,
        interruptedBy: 'signal',
      };
  return {
    dir,
    deviceFile: String(begin.deviceFile ?? sourcePath),
    deviceFileSha256: typeof begin.deviceFileSha256 === 'string' ? begin.deviceFileSha256 : undefined,
    unfinished: !end || (end.meta as RunMeta | undefined)?.incomplete === true,
    device: { ...parsed.data, sourcePath, baseDir },
    // A lab's own catalog is found again by its file.
    profileId: String(begin.profileSource ?? begin.profile),
    only: Array.isArray(begin.only) ? new Set(begin.only as string[]) : undefined,
    meta,
    results,
    repeated: [...new Set([...repeated, ...open])],
    authLedger: end?.authLedger as SavedRun['authLedger'],
  };
}
