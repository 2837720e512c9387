/** `starbench report RUN_DIR`: judge saved observations again without touching the device. */
import { deviceKeys, unreadKeyProbes } from '../profiles/checks/crypto-unique-device-keys';
import type { UnitKeys } from '../harness/types';
import type { Registry } from '../harness/registry';
import { loadRegistry } from './plugins';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { assembleReport, type RunMeta } from '../harness/assemble';
import { StarbenchError } from '../harness/errors';
import { listProfiles, loadProfile, type Profile } from '../harness/profile';
import type { Report } from '../harness/report';
import { checkAnswers, loadReviewFile, type ReviewFile } from '../harness/review';
import { checkDecisions } from '../harness/tree-targets';
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
  review: ReviewFile = { answers: [], decisions: [] },
  peers: readonly UnitKeys[] = [],
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
    answers: review.answers,
    decisions: review.decisions,
    peers,
    authLedger: saved.authLedger,
  });
}

/** Every requirement id with a decision tree, in the built-in catalogs and in this one. */
function treeRequirements(profile: Profile): Set<string> {
  return new Set([...listProfiles(), profile].flatMap((p) => p.requirements.filter((r) => r.tree).map((r) => r.id)));
}

/** The key fingerprints of other units' saved runs (`--compare-keys RUN`), for crypto.unique-device-keys. */
function comparedUnits(saved: SavedRun, dirs: readonly string[], registry: Registry): UnitKeys[] {
  return dirs.map((d) => {
    const other = loadSavedRun(path.resolve(d), registry.probes);
    if (other.meta.id === saved.meta.id)
      throw new StarbenchError('USAGE', `--compare-keys ${d} is this run itself: compare with the run of another unit of the same model`);
    const result = (p: string) => other.results.get(p);
    return {
      runId: other.meta.id,
      device: other.device.device.name,
      model: other.device.device.model,
      keys: deviceKeys(result),
      unread: unreadKeyProbes(result),
    };
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
  const review: ReviewFile = { answers: [], decisions: [] };
  for (const f of args.values.answers ?? []) {
    const file = loadReviewFile(path.resolve(f));
    checkAnswers(profile, file.answers, f);
    checkDecisions(profile, file.decisions, saved.device, f, treeRequirements(profile));
    review.answers.push(...file.answers);
    review.decisions.push(...file.decisions);
  }
  checkAnswers(profile, saved.device.review ?? [], saved.deviceFile);
  const outDir = path.resolve(args.values.out ?? dir);
  mkdirSync(outDir, { recursive: true });
  const report = judgeSavedRun(
    saved,
    profile,
    { ...saved.meta, rejudgedAt: new Date().toISOString() },
    registry,
    review,
    comparedUnits(saved, args.values['compare-keys'] ?? [], registry),
  );
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
