/** `starbench run` and `starbench demo`. */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { loadDeviceFile } from '../device-file/load';
import { loadSavedRun } from '../saved-run';
import type { ProbeResult } from '../types';
import type { DeviceFile } from '../device-file/schema';
import { StarbenchError } from '../errors';
import { createLogger } from '../logger';
import { DEFAULT_PROFILE, loadProfile } from '../profile';
import { executeRun } from '../runner';
import { SecretRegistry } from '../secrets';
import { EXIT } from '../verdict';
import { CHECKS } from '../../profiles/checks';
import { PROBES } from '../../probes';
import { ReporterMultiplexer } from '../../reports/reporter';
import { parseLang } from '../../reports/i18n';
import { DEFAULT_FORMATS, FILE_REPORTERS, fileReporters } from '../../reports';
import { terminalReporter } from '../../reports/terminal';
import { startDemoDevice } from '../../fixtures/demo-device';
import { publicPasswords } from '../../probes/credentials/dictionary';
import { list, seconds, type ParsedArgs } from './args';
import type { CliIO } from './io';

export function checkFormats(formats: string[]): string[] {
  for (const f of formats) {
    if (!(f in FILE_REPORTERS)) throw new StarbenchError('USAGE', `unknown format "${f}"; known formats: ${Object.keys(FILE_REPORTERS).join(', ')}`);
  }
  return formats;
}

function checkOnly(ids: string[] | undefined): Set<string> | undefined {
  if (!ids) return undefined;
  for (const id of ids) {
    if (!CHECKS.has(id)) throw new StarbenchError('CHECK_UNKNOWN', `unknown check "${id}" in --only; see: starbench list checks`);
  }
  return new Set(ids);
}

function runId(device: DeviceFile): string {
  const slug = device.device.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'device';
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  return `${slug}-${stamp}-${randomBytes(2).toString('hex')}`;
}

export interface ResumeState {
  runDir: string;
  runId: string;
  profileId: string;
  only?: Set<string>;
  startedAt: string;
  results: ReadonlyMap<string, ProbeResult>;
}

/** Assess one validated device file (or finish an interrupted run of it); returns the exit code. */
export async function assess(input: DeviceFile, args: ParsedArgs, io: CliIO, resume?: ResumeState): Promise<number> {
  const v = args.values;
  if (v.scanner !== undefined && !['auto', 'nmap', 'builtin'].includes(v.scanner)) throw new StarbenchError('USAGE', `--scanner takes auto, nmap or builtin, got "${v.scanner}"`);
  const device: DeviceFile = v.scanner ? { ...input, scan: { bannerWaitMs: 500, ...input.scan, scanner: v.scanner as 'auto' | 'nmap' | 'builtin' } } : input;
  const profile = loadProfile(resume?.profileId ?? v.profile ?? DEFAULT_PROFILE);
  const only = resume ? resume.only : checkOnly(list(v.only));
  const formats = checkFormats(list(v.format) ?? DEFAULT_FORMATS);
  const probeTimeoutMs = seconds(v['probe-timeout'], 'probe-timeout');
  const deadlineMs = seconds(v.deadline, 'deadline');
  const id = resume?.runId ?? runId(device);
  const runDir = resume?.runDir ?? path.resolve(v.out ?? 'runs', id);
  const secrets = SecretRegistry.fromDevice(device, v['reveal-secrets'] ?? false, publicPasswords());
  const log = createLogger({ file: path.join(runDir, 'log.jsonl'), verbose: v.verbose, secrets });
  const reporter = new ReporterMultiplexer(
    [terminalReporter({ write: io.err, progress: io.isTTY && !v.quiet, summary: !v.quiet, colour: io.colour }), ...fileReporters(formats, { lang: parseLang(v.lang) })],
    (e) => io.err(`starbench: reporter ${e.reporter} failed in ${e.hook}: ${e.message}\n`),
  );
  const outcome = await executeRun({ device, profile, probes: PROBES, checks: CHECKS, runDir, runId: id, reporter, log, secrets, only, signal: io.signal, probeTimeoutMs, deadlineMs, operator: v['non-interactive'] ? undefined : io.operator, resume: resume ? { results: resume.results, startedAt: resume.startedAt } : undefined });
  log.flush();
  io.out(`report: ${runDir}${formats.includes('html') ? `/report.html` : ''}\n`);
  if (outcome.report.run.interruptedBy === 'signal') return EXIT.interrupted;
  const code = outcome.report.summary.exitCode;
  return code === EXIT.ok && reporter.errors.length > 0 ? EXIT.incomplete : code;
}

export async function runCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [file, ...extra] = args.positionals.slice(1);
  if (!file) throw new StarbenchError('USAGE', 'starbench run needs a device file: starbench run DEVICE.yaml');
  if (extra.length > 0) throw new StarbenchError('USAGE', `starbench run takes one device file; unexpected: ${extra.join(' ')}`);
  return assess(loadDeviceFile(file), args, io);
}

/** Probe results that stand: everything that ended, except what an interruption cancelled. */
function finalResults(results: ReadonlyMap<string, ProbeResult>): Map<string, ProbeResult> {
  return new Map([...results].filter(([, r]) => r.status !== 'cancelled'));
}

/** `starbench resume RUN_DIR`: run only what an interrupted run had not finished, into the same folder. */
export async function resumeCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [dir, ...extra] = args.positionals.slice(1);
  if (!dir || extra.length) throw new StarbenchError('USAGE', 'starbench resume takes one run folder: starbench resume RUN_DIR');
  for (const opt of ['profile', 'only', 'out'] as const) {
    if (args.values[opt] !== undefined) throw new StarbenchError('USAGE', `--${opt} cannot change on resume: the run keeps its own`);
  }
  const runDir = path.resolve(dir);
  const saved = loadSavedRun(runDir);
  if (!saved.unfinished) throw new StarbenchError('RUN_DIR_INVALID', `${runDir} finished already; nothing to resume (starbench report re-judges it)`);
  // The journal holds masked credentials: the device file itself is needed again, unchanged.
  const device = loadDeviceFile(saved.deviceFile);
  if (saved.deviceFileSha256 && device.sha256 !== saved.deviceFileSha256) {
    throw new StarbenchError('RUN_DIR_INVALID', `${saved.deviceFile} changed since the run started; resuming would mix two declarations (start a new run)`);
  }
  const results = finalResults(saved.results);
  if (!args.values.quiet) io.err(`starbench: resuming ${saved.meta.id}: ${results.size} probe result(s) kept, the rest run now\n`);
  return assess(device, args, io, { runDir, runId: saved.meta.id, profileId: saved.profileId, only: saved.only, startedAt: saved.meta.startedAt, results });
}

export async function demoCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  if (args.positionals.length > 1) throw new StarbenchError('USAGE', `starbench demo takes no arguments; unexpected: ${args.positionals.slice(1).join(' ')}`);
  const demo = await startDemoDevice();
  try {
    const file = demo.writeDeviceFile(path.resolve(args.values.out ?? 'runs'));
    if (!args.values.quiet) io.err(`starbench: demo device up on ${demo.host} ports ${Object.values(demo.ports).join(', ')}; device file ${file}\n`);
    return await assess(loadDeviceFile(file), args, io);
  } finally {
    await demo.stop();
  }
}
