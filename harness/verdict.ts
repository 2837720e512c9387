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

/**
 * The run's overall verdict: requirements that were not assessed (document
 * review, operator steps) do not stop a pass, but a run that assessed nothing
 * is `not-tested`, never `pass`.
 */
export function summaryVerdict(requirementVerdicts: readonly Verdict[]): Verdict {
  for (const v of ['fail', 'error', 'inconclusive'] as const) {
    if (requirementVerdicts.includes(v)) return v;
  }
  if (requirementVerdicts.includes('pass')) return 'pass';
  if (requirementVerdicts.length > 0 && requirementVerdicts.every((v) => v === 'not-applicable')) return 'not-applicable';
  return 'not-tested';
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
