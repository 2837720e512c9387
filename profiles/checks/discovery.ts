/**
 * Whether service discovery finished and saw the device: only then may a
 * check say "no such service here" (not-applicable) rather than "could not
 * tell". A check-side rule over the tcp-ports probe's facts.
 */
import { factOf, basis } from '../../harness/facts';
import type { CheckJudgement, JudgeInput } from '../../harness/types';
import { TcpScanFact } from '../../probes/ports';

/** Why discovery cannot vouch for an empty result, or null when it can. */
export function discoveryFailure(input: JudgeInput): string | null {
  const scan = input.result('tcp-ports');
  if (!scan || scan.status !== 'completed') return `service discovery did not complete${scan?.reason ? ` (${scan.reason})` : ''}`;
  const summary = factOf(scan, TcpScanFact);
  if (!summary) return 'service discovery recorded no summary of what it scanned';
  return TcpScanFact.unknown?.(summary) ?? null;
}

/** No service of this kind seen: not-applicable after a completed scan, inconclusive otherwise. */
export function noServiceJudgement(input: JudgeInput, what: string): CheckJudgement {
  const blind = discoveryFailure(input);
  if (blind) return { verdict: 'inconclusive', rationale: `no ${what} service found, and ${blind}`, findings: [] };
  return { verdict: 'not-applicable', rationale: `no ${what} service declared or found`, findings: [], basis: basis(['tcp-ports', TcpScanFact]) };
}
