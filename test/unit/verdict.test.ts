import { exitCodeFor, requirementVerdict, runSummary, summaryVerdict, worst, type SummaryRow, type Verdict } from '../../harness/verdict';

describe('verdict aggregation', () => {
  it('a requirement is the worst of its checks', () => {
    expect(requirementVerdict(['pass', 'pass'])).toBe('pass');
    expect(requirementVerdict(['pass', 'fail', 'error'])).toBe('fail');
    expect(requirementVerdict(['pass', 'error', 'inconclusive'])).toBe('error');
    expect(requirementVerdict(['pass', 'inconclusive'])).toBe('inconclusive');
    expect(requirementVerdict(['pass', 'not-tested'])).toBe('not-tested');
    expect(requirementVerdict(['pass', 'not-applicable'])).toBe('pass');
    expect(requirementVerdict(['not-applicable', 'not-applicable'])).toBe('not-applicable');
  });

  it('no checks means not tested, never pass', () => {
    expect(requirementVerdict([])).toBe('not-tested');
    expect(worst([])).toBe('not-tested');
  });

  it('a run with a device-test requirement not tested is incomplete and never a pass; document rows waiting for a reviewer are not', () => {
    expect(summaryVerdict(['pass', 'not-tested'])).toBe('not-tested');
    expect(exitCodeFor(summaryVerdict(['pass', 'not-tested']))).toBe(3);
    const rows = (over: Array<Partial<SummaryRow>>): SummaryRow[] => over.map((o, i) => ({ id: `R${i}`, verdict: 'pass', assessedBy: 'device', ...o }));
    expect(runSummary(rows([{}, { verdict: 'not-tested', assessedBy: 'document' }]))).toEqual({ verdict: 'pass', status: 'complete', untested: [] });
    expect(runSummary(rows([{}, { verdict: 'not-tested', assessedBy: 'both' }]))).toEqual({ verdict: 'not-tested', status: 'incomplete', untested: ['R1'] });
    expect(runSummary(rows([{}, { verdict: 'not-tested', supplementary: true }]))).toMatchObject({ verdict: 'pass', status: 'complete' });
    // A row with checks is a device test whatever it is labelled: a document row or a theme with checks not run is untested.
    expect(runSummary(rows([{}, { verdict: 'not-tested', assessedBy: 'document', checks: ['auth.default-credentials'] }]))).toMatchObject({
      status: 'incomplete',
    });
    expect(runSummary(rows([{}, { verdict: 'not-tested', supplementary: true, checks: ['comms.tls'] }]))).toMatchObject({ status: 'incomplete' });
    // Device rows all not-applicable, document rows waiting for a reviewer: not-applicable and complete, not a contradiction.
    expect(runSummary(rows([{ verdict: 'not-applicable' }, { verdict: 'not-tested', assessedBy: 'document' }]))).toEqual({
      verdict: 'not-applicable',
      status: 'complete',
      untested: [],
    });
    // A failure still says fail, and the run still says it was incomplete.
    expect(runSummary(rows([{ verdict: 'fail' }, { verdict: 'not-tested' }]))).toEqual({ verdict: 'fail', status: 'incomplete', untested: ['R1'] });
  });

  it('the run summary never passes on nothing', () => {
    expect(summaryVerdict(['not-tested', 'not-tested'])).toBe('not-tested');
    expect(summaryVerdict([])).toBe('not-tested');
    expect(summaryVerdict(['pass', 'inconclusive'])).toBe('inconclusive');
    expect(summaryVerdict(['fail', 'error'])).toBe('fail');
    expect(summaryVerdict(['not-applicable'])).toBe('not-applicable');
  });

  it('maps verdicts to the exit codes of the design', () => {
    const table: Array<[Verdict, number]> = [
      ['pass', 0],
      ['not-applicable', 0],
      ['fail', 1],
      ['error', 3],
      ['inconclusive', 3],
      ['not-tested', 3],
    ];
    for (const [v, code] of table) expect(exitCodeFor(v)).toBe(code);
  });
});
