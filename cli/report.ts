/** `starbench report RUN_DIR`: judge saved observations again without touching the device. */
import type { Registry } from '../harness/registry';
import { loadRegistry } from './plugins';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { assembleReport, type RunMeta } from '../harness/assemble';
import { StarbenchError } from '../harness/errors';
import { loadProfile, type Profile } from '../harness/profile';
import type { Report } from '../harness/report';
import { checkAnswers, loadReviewFile, type ReviewAnswer } from '../harness/review';
import { loadSavedRun, type SavedRun } from '../harness/saved-run';
import { EXIT } from '../harness/verdict';
import { ReporterMultiplexer } from '../reports/reporter';
import { parseLang } from '../reports/i18n';
import { DEFAULT_FORMATS, fileReporters } from '../reports';
import { terminalReporter } from '../reports/terminal';
import { list, type ParsedArgs } from './args';
import type { CliIO } from './io';
import { checkFormats } from './assess';

/** Judge a saved run's observations (again), under any profile, without the device. */
export function judgeSavedRun(
  saved: SavedRun,
  profile: Profile,
  meta: RunMeta = saved.meta,
  registry: Registry = loadRegistry(),
  answers: readonly ReviewAnswer[] = [],
): Report {
  // Saved observations are already masked; nothing to reveal.
  return assembleReport({
    meta,
    device: saved.device,
    profile,
    checks: registry.checks,
    probes: registry.probes,
    results: saved.results,
    only: saved.only,
    reveal: false,
    answers,
    authLedger: saved.authLedger,
  });
}

export async function reportCommand(args: ParsedArgs, io: CliIO): Promise<number> {
  const [dir, ...extra] = args.positionals.slice(1);
  if (!dir) throw new StarbenchError('USAGE', 'starbench report needs a run folder: starbench report RUN_DIR');
  if (extra.length > 0) throw new StarbenchError('USAGE', `starbench report takes one run folder; unexpected: ${extra.join(' ')}`);
  const registry = loadRegistry(args.values.plugin);
  const saved = loadSavedRun(path.resolve(dir), registry.probes);
  const profile = loadProfile(args.values.profile ?? saved.profileId);
  const formats = checkFormats(list(args.values.format) ?? DEFAULT_FORMATS, profile.id);
  // Reviewer answers recorded after the run (document review): checked against the profile before anything is written.
  const answers = (args.values.answers ?? []).flatMap((f) => {
    const a = loadReviewFile(path.resolve(f));
    checkAnswers(profile, a, f);
    return a;
  });
  checkAnswers(profile, saved.device.review ?? [], saved.deviceFile);
  const outDir = path.resolve(args.values.out ?? dir);
  mkdirSync(outDir, { recursive: true });
  const report = judgeSavedRun(saved, profile, { ...saved.meta, rejudgedAt: new Date().toISOString() }, registry, answers);
  const reporter = new ReporterMultiplexer(
    [
      terminalReporter({ write: io.err, progress: false, summary: !args.values.quiet, colour: io.colour }),
      ...fileReporters(formats, { lang: parseLang(args.values.lang), langGiven: args.values.lang !== undefined }),
    ],
    (e) => io.err(`starbench: reporter ${e.reporter} failed in ${e.hook}: ${e.message}\n`),
  );
  reporter.collectInto(report.errors);
  await reporter.onRunEnd(report, outDir);
  io.out(`report: ${outDir}${formats.includes('html') ? '/report.html' : ''}\n`);
  const code = report.summary.exitCode;
  return code === EXIT.ok && reporter.errors.length > 0 ? EXIT.incomplete : code;
}
