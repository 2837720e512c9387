/**
 * The one mapping from a probe that did not complete to a check verdict.
 * A probe that could not run never yields `pass`.
 */
import type { CheckJudgement, JudgeInput, ProbeResult } from './types';

export type Gate = { ok: true; result: ProbeResult } | { ok: false; judgement: CheckJudgement };

export function gate(input: JudgeInput, probeId: string): Gate {
  const r = input.result(probeId);
  const no = (verdict: CheckJudgement['verdict'], rationale: string): Gate => ({ ok: false, judgement: { verdict, rationale, findings: [] } });
  if (!r) return no('not-tested', `probe ${probeId} did not run`);
  const why = r.reason ? `: ${r.reason}` : '';
  switch (r.status) {
    case 'completed':
      return { ok: true, result: r };
    case 'failed':
      return no('error', `probe ${probeId} failed${why}`);
    case 'timed-out':
      return no('inconclusive', `probe ${probeId} timed out${why}`);
    case 'cancelled':
      return no('not-tested', `probe ${probeId} was cancelled${why}`);
    case 'skipped':
      return no('not-tested', `probe ${probeId} skipped${why}`);
    case 'not-implemented':
      return no('not-tested', `probe ${probeId} not implemented${why}`);
  }
}
