import { exitCodeFor, requirementVerdict, summaryVerdict, worst, type Verdict } from '../../harness/verdict';

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

  it('the run summary ignores unassessed requirements but never passes on nothing', () => {
    expect(summaryVerdict(['pass', 'not-tested'])).toBe('pass');
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
