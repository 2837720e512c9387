/** Assessing one device: shared by `run`, `resume`, `demo` and fleet runs. */
import { checkVulnerabilitySources, knownVulnerabilitiesProbe } from '../probes/vulnerabilities';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { ProbeResult } from '../harness/types';
import type { Report } from '../harness/report';
import type { Semaphore } from '../harness/limiter';
import type { DeviceFile } from '../harness/device-file/schema';
import type { SavedRun } from '../harness/saved-run';
import { StarbenchError } from '../harness/errors';
import { createLogger } from '../harness/logger';
import { DEFAULT_PROFILE, loadProfile } from '../harness/profile';
import { checkAnswers } from '../harness/review';
import { executeRun, planProbes } from '../harness/runner';
import { checksForProfile } from '../harness/judge';
import { SecretRegistry } from '../harness/secrets';
import { EXIT } from '../harness/verdict';
import type { Registry } from '../harness/registry';
import { loadRegistry } from './plugins';
import { ReporterMultiplexer } from '../reports/reporter';
import { parseLang } from '../reports/i18n';
import { DEFAULT_FORMATS, FILE_REPORTERS, fileReporters } from '../reports';
import { terminalReporter } from '../reports/terminal';
import { publicPasswords } from '../probes/credentials/dictionary';
import { list, seconds, type ParsedArgs } from './args';
import type { CliIO } from './io';

export function checkFormats(formats: string[], profileId?: string): string[] {
  for (const f of formats) {
    if (!(f in FILE_REPORTERS)) throw new StarbenchError('USAGE', `unknown format "${f}"; known formats: ${Object.keys(FILE_REPORTERS).join(', ')}`);
    // The ★1 checklist has the ★1 requirements' rows: under another scheme it would be the wrong form.
    if (f === 'jcstar-checklist' && profileId !== undefined && profileId !== 'jc-star-1')
      throw new StarbenchError(
        'USAGE',
        `--format jcstar-checklist is the JC-STAR ★1 checklist: it needs --profile jc-star-1 (this run's profile is ${profileId})`,
      );
    if (f === 'technical-file' && profileId !== undefined && !loadProfile(profileId).requirements.some((r) => r.tree))
      throw new StarbenchError(
        'USAGE',
        `--format technical-file is the decision-tree table of EN 18031: it needs --profile en-18031-1, -2 or -3 (this run's profile is ${profileId})`,
      );
  }
  return formats;
}

function checkOnly(ids: string[] | undefined, registry: Registry): Set<string> | undefined {
  if (!ids) return undefined;
  for (const id of ids) {
    if (!registry.checks.has(id)) throw new StarbenchError('CHECK_UNKNOWN', `unknown check "${id}" in --only; see: starbench list checks`);
  }
  return new Set(ids);
}

function runId(device: DeviceFile): string {
  const slug =
    device.device.name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 40) || 'device';
  const stamp = new Date()
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${slug}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export interface ResumeState {
  runDir: string;
  runId: string;
  profileId: string;
  only?: Set<string>;
  startedAt: string;
  results: ReadonlyMap<string, ProbeResult>;
  /** Probes that had begun and left no result: they run again and the report names them. */
  repeated: readonly string[];
}

/**
 * What a resume of a saved run starts from: its finished results (a probe cancelled mid-way runs again) and the
 * probes that had begun without finishing. `profileId` overrides the saved one (an agent's unpacked catalog file).
 */
export function resumeState(saved: SavedRun, profileId = saved.profileId): ResumeState {
  return {
    runDir: saved.dir,
    runId: saved.meta.id,
    profileId,
    only: saved.only,
    startedAt: saved.meta.startedAt,
    results: new Map([...saved.results].filter(([, r]) => r.status !== 'cancelled')),
    repeated: saved.repeated,
  };
}

/** The options a run takes, checked without touching anything. */
export function validateRunArgs(args: ParsedArgs): void {
  const v = args.values;
  if (v.scanner !== undefined && !['auto', 'nmap', 'builtin'].includes(v.scanner))
    throw new StarbenchError('USAGE', `--scanner takes auto, nmap or builtin, got "${v.scanner}"`);
  const registry = loadRegistry(v.plugin);
  loadProfile(v.profile ?? DEFAULT_PROFILE);
  checkOnly(list(v.only), registry);
  checkFormats(list(v.format) ?? DEFAULT_FORMATS);
  parseLang(v.lang);
  seconds(v['probe-timeout'], 'probe-timeout');
  seconds(v.deadline, 'deadline');
}

export interface AssessOptions {
  resume?: ResumeState;
  /** Fleet runs: a line prefix per device, no per-device summary, the shared connection cap. */
  prefix?: string;
  summary?: boolean;
  globalSlots?: Semaphore;
  /** The run folder of a fresh run (a campaign agent streams its journal from there); default --out/RUN_ID. */
  runDir?: string;
  /** Stop after the probes in progress (see RunOptions.drain). */
  drain?: AbortSignal;
}

export interface Assessed {
  code: number;
  runDir: string;
  report: Report;
}

/** Assess one validated device file (or finish an interrupted run of it); returns the exit code. */
export async function assess(input: DeviceFile, args: ParsedArgs, io: CliIO, resume?: ResumeState): Promise<number> {
  return (await assessOne(input, args, io, { resume })).code;
}

export async function assessOne(input: DeviceFile, args: ParsedArgs, io: CliIO, opts: AssessOptions = {}): Promise<Assessed> {
  const resume = opts.resume;
  const v = args.values;
  if (v.scanner !== undefined && !['auto', 'nmap', 'builtin'].includes(v.scanner))
    throw new StarbenchError('USAGE', `--scanner takes auto, nmap or builtin, got "${v.scanner}"`);
  const scanned: DeviceFile = v.scanner
    ? { ...input, scan: { bannerWaitMs: 500, versionDetection: true, ...input.scan, scanner: v.scanner as 'auto' | 'nmap' | 'builtin' } }
    : input;
  // --vuln-feed adds feeds (relative to the working folder) to the device file's own.
  const extraFeeds = (v['vuln-feed'] ?? []).map((f) => path.resolve(f));
  const device: DeviceFile = extraFeeds.length
    ? { ...scanned, vulnerabilities: { feeds: [...(scanned.vulnerabilities?.feeds ?? []), ...extraFeeds], reports: scanned.vulnerabilities?.reports ?? [] } }
    : scanned;
  const registry = loadRegistry(v.plugin);
  const profileRef = resume?.profileId ?? v.profile ?? DEFAULT_PROFILE;
  const profile = loadProfile(profileRef);
  checkAnswers(profile, device.review ?? [], device.sourcePath);
  const only = resume ? resume.only : checkOnly(list(v.only), registry);
  // The feeds are read before the run touches the device, and only when the run will match against them (a full NVD
  // takes tens of seconds): not for a profile or --only without the check, nor on a resume that keeps its result.
  const planned = planProbes(checksForProfile(profile, only), registry.checks, registry.probes);
  if (planned.includes(knownVulnerabilitiesProbe.id) && !resume?.results.has(knownVulnerabilitiesProbe.id)) await checkVulnerabilitySources(device);
  const formats = checkFormats(list(v.format) ?? DEFAULT_FORMATS, profile.id);
  const probeTimeoutMs = seconds(v['probe-timeout'], 'probe-timeout');
  const deadlineMs = seconds(v.deadline, 'deadline');
  const id = resume?.runId ?? runId(device);
  const runDir = resume?.runDir ?? opts.runDir ?? path.resolve(v.out ?? 'runs', id);
  const secrets = SecretRegistry.fromDevice(device, v['reveal-secrets'] ?? false, publicPasswords());
  const log = createLogger({ file: path.join(runDir, 'log.jsonl'), verbose: v.verbose, secrets });
  const prefix = opts.prefix ?? '';
  const write = (text: string): void => io.err(prefix ? text.replace(/^(?=.)/gm, prefix) : text);
  const reporter = new ReporterMultiplexer(
    [
      terminalReporter({ write, progress: io.isTTY && !v.quiet, summary: (opts.summary ?? true) && !v.quiet, colour: io.colour }),
      ...fileReporters(formats, { lang: parseLang(v.lang), langGiven: v.lang !== undefined }),
    ],
    (e) => io.err(`${prefix}starbench: reporter ${e.reporter} failed in ${e.hook}: ${e.message}\n`),
  );
  const outcome = await executeRun({
    device,
    profile,
    profileRef,
    probes: registry.probes,
    checks: registry.checks,
    runDir,
    runId: id,
    reporter,
    log,
    secrets,
    only,
    signal: io.signal,
    probeTimeoutMs,
    deadlineMs,
    operator: v['non-interactive'] ? undefined : io.operator,
    resume: resume ? { results: resume.results, startedAt: resume.startedAt, repeated: resume.repeated } : undefined,
    globalSlots: opts.globalSlots,
    drain: opts.drain,
  });
  log.flush();
  io.out(`${prefix}report: ${runDir}${formats.includes('html') ? `/report.html` : ''}\n`);
  const result = (code: number): Assessed => ({ code, runDir, report: outcome.report });
  if (outcome.report.run.interruptedBy === 'signal') return result(EXIT.interrupted);
  const code = outcome.report.summary.exitCode;
  return result(code === EXIT.ok && reporter.errors.length > 0 ? EXIT.incomplete : code);
}
