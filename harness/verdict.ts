/**
 * The six verdicts of the design and the one place that orders them and maps
 * them to exit codes.
 */
export const VERDICTS = ['pass', 'fail', 'inconclusive', 'error', 'not-applicable', 'not-tested'] as const;
export type Verdict = (typeof VERDICTS)[number];

// "Worst" order. A device failure outranks a harness failure: a requirement
// with one failed check has failed whatever else went wrong. `not-tested`
// outranks `pass` so partial evidence never adds up to a pass.
const SEVERITY: Record<Verdict, number> = {
  'not-applicable': 0,
  pass: 1,
  'not-tested': 2,
  inconclusive: 3,
  error: 4,
  fail: 5,
};

/**
 * How far a verdict is from a clean result, for comparing two runs of one
 * device (the surveillance diff): pass and not-applicable are both clean,
 * inconclusive and error both undecided. `worst` orders within one run; this
 * says whether a check got worse between runs. Both live here, nowhere else.
 */
const DISTANCE: Record<Verdict, number> = { pass: 0, 'not-applicable': 0, 'not-tested': 1, inconclusive: 2, error: 2, fail: 3 };

/** Positive when `after` is worse than `before`, negative when better, 0 when the same distance from clean. */
export function verdictChange(before: Verdict, after: Verdict): number {
  return DISTANCE[after] - DISTANCE[before];
}

export function worst(verdicts: readonly Verdict[]): Verdict {
  if (verdicts.length === 0) return 'not-tested';
  return verdicts.reduce((a, b) => (SEVERITY[b] > SEVERITY[a] ? b : a));
}

/** A requirement is the worst of its checks; one with no check was not tested. */
export function requirementVerdict(checkVerdicts: readonly Verdict[]): Verdict {
  return worst(checkVerdicts);
}

/** What the run summary needs of a requirement row. */
export interface SummaryRow {
  id: string;
  verdict: Verdict;
  assessedBy?: 'device' | 'document' | 'both';
  supplementary?: boolean;
  /** The automated checks the row has: a row with checks is a device test whatever its assessedBy says. */
  checks?: readonly string[];
}

/** A row with no automated check that only a reviewer settles (document review), or a theme that is not a requirement. */
const reviewOnly = (r: SummaryRow): boolean => (r.assessedBy === 'document' || r.supplementary === true) && (r.checks?.length ?? 0) === 0;

/**
 * The run's overall verdict and whether it is complete. A failure, an error
 * or an undecided row wins as before. Otherwise a run in which any row that
 * a device test settles (device or both, or any row with a check — a
 * supplementary theme included) was not tested is `incomplete` and never
 * `pass`: its verdict is `not-tested` (exit 3). Rows waiting for a reviewer
 * (document review, no check) do not make a device test incomplete. A run
 * that assessed nothing is `not-tested`, never `pass`.
 */
export function runSummary(rows: readonly SummaryRow[]): { verdict: Verdict; status: 'complete' | 'incomplete'; untested: string[] } {
  const untested = rows.filter((r) => r.verdict === 'not-tested' && !reviewOnly(r)).map((r) => r.id);
  const status = untested.length ? 'incomplete' : 'complete';
  const verdicts = rows.map((r) => r.verdict);
  for (const v of ['fail', 'error', 'inconclusive'] as const) if (verdicts.includes(v)) return { verdict: v, status, untested };
  if (untested.length) return { verdict: 'not-tested', status, untested };
  const assessed = rows.filter((r) => !(r.verdict === 'not-tested' && reviewOnly(r))).map((r) => r.verdict);
  if (assessed.includes('pass')) return { verdict: 'pass', status, untested };
  if (assessed.length > 0 && assessed.every((v) => v === 'not-applicable')) return { verdict: 'not-applicable', status, untested };
  return { verdict: 'not-tested', status, untested };
}

/** The overall verdict of plain verdicts (every row a device test). */
export function summaryVerdict(requirementVerdicts: readonly Verdict[]): Verdict {
  return runSummary(requirementVerdicts.map((verdict, i) => ({ id: String(i), verdict, assessedBy: 'device' }))).verdict;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, incomplete: 3, interrupted: 130 } as const;

/** Exit codes of the design: 0 all assessed passed, 1 a failure, 3 undecided. */
export function exitCodeFor(summary: Verdict): number {
  switch (summary) {
    case 'pass':
    case 'not-applicable':
      return EXIT.ok;
    case 'fail':
      return EXIT.failed;
    default:
      return EXIT.incomplete;
  }
}

export function countVerdicts(verdicts: readonly Verdict[]): Record<Verdict, number> {
  const counts = Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
  for (const v of verdicts) counts[v] += 1;
  return counts;
}
