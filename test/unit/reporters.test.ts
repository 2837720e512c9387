import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import { XMLParser } from 'fast-xml-parser';
import { reportJsonSchema, type Report } from '../../harness/report';
import type { Check, Probe } from '../../harness/types';
import { htmlReporter, renderHtml } from '../../reports/html';
import { jsonReporter } from '../../reports/json';
import { junitReporter, renderJunit } from '../../reports/junit';
import { nullReporter } from '../../reports/null';
import { CHECK_TEXT_JA } from '../../reports/i18n';
import { ALL_CHECKS } from '../../profiles/checks';
import type { Reporter } from '../../reports/reporter';
import { terminalReporter } from '../../reports/terminal';
import { deviceFrom, minimalDevice } from '../helpers/device';
import { profileOf, runWith, X_FACT } from '../helpers/run';
import { diffRuns, renderDiffText } from '../../reports/diff';

const probe: Probe = {
  id: 'p',
  title: 'p',
  needs: [],
  facts: [X_FACT],
  run: async () => ({ observations: [{ kind: 'x', summary: 'x', data: { bad: true } }] }),
};
const failing: Check = {
  id: 'c.fail',
  title: 'Fails <always> & loudly',
  failsWhen: 'always',
  probes: ['p'],
  implemented: true,
  fix: 'Do better',
  judge: () => ({ verdict: 'fail', rationale: 'saw <script>alert(1)</script>', findings: [{ severity: 'high', message: 'port 23 "open"' }] }),
};
const passing: Check = {
  ...failing,
  id: 'c.pass',
  title: 'Passes',
  judge: () => ({ verdict: 'pass', rationale: 'fine', findings: [], basis: [{ probe: 'p', kind: X_FACT.kind }] }),
};

async function sampleRun(reporters: Reporter[]) {
  return runWith({
    device: deviceFrom(minimalDevice),
    profile: profileOf([
      { id: 'R-1', checks: ['c.fail'] },
      { id: 'R-2', checks: ['c.pass'] },
      { id: 'R-3', checks: [] },
    ]),
    probes: [probe],
    checks: [failing, passing],
    reporters,
  });
}

describe('reporters', () => {
  it('report.json validates against `starbench schema report`', async () => {
    const { runDir } = await sampleRun([jsonReporter()]);
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report;
    const validate = new Ajv2020({ strict: false }).compile(reportJsonSchema());
    expect(validate(report)).toBe(true);
    expect(report.schemaVersion).toBe('1.0.0');
    expect(report.requirements.map((r) => [r.id, r.verdict])).toEqual([
      ['R-1', 'fail'],
      ['R-2', 'pass'],
      ['R-3', 'not-tested'],
    ]);
    expect(report.summary).toMatchObject({ verdict: 'fail', exitCode: 1 });
    // and the schema is not vacuous: a wrong verdict string is refused
    expect(validate({ ...report, summary: { ...report.summary, verdict: 'passed' } })).toBe(false);
  });

  it('junit.xml has one testcase per requirement with failures carrying the rationale', async () => {
    const { runDir } = await sampleRun([junitReporter()]);
    const xml = readFileSync(path.join(runDir, 'junit.xml'), 'utf8');
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(xml);
    const suite = doc.testsuites.testsuite;
    expect(suite.tests).toBe('3');
    expect(suite.failures).toBe('1');
    const cases = suite.testcase as Array<Record<string, unknown>>;
    expect(cases).toHaveLength(3);
    expect((cases[0].failure as { message: string }).message).toBe('worst of its checks: c.fail fail');
    expect(String((cases[0].failure as { '#text': string })['#text'])).toContain('saw <script>alert(1)</script>');
    expect(cases[1].failure).toBeUndefined();
    expect(cases[2].skipped).toBeDefined();
  });

  it('report.html is one self-contained file that escapes device-controlled text', async () => {
    const { runDir, report } = await sampleRun([htmlReporter()]);
    const html = readFileSync(path.join(runDir, 'report.html'), 'utf8');
    expect(html).toBe(await renderHtml(report));
    expect(html).not.toContain('<script>');
    expect(html).toContain('saw &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<(link|img|script)\b[^>]*(src|href)=["']https?:/);
    for (const id of ['R-1', 'R-2', 'R-3']) expect(html).toContain(`<code>${id}</code>`);
    expect(html).toContain('What to fix:</strong> Do better');
    expect(html).toContain('Not tested — needs review');
  });

  it('the terminal shows progress only when asked, and always the summary', async () => {
    const lines: string[] = [];
    await sampleRun([terminalReporter({ write: (t) => lines.push(t), progress: false, summary: true, colour: false })]);
    const text = lines.join('');
    expect(text).not.toContain('…');
    expect(text).toMatch(/fail\s+R-1/);
    expect(text).toContain('Overall: fail (1 pass, 1 fail, 1 not-tested)');
    const progress: string[] = [];
    await sampleRun([terminalReporter({ write: (t) => progress.push(t), progress: true, summary: false, colour: false })]);
    expect(progress.join('')).toContain('✓ p completed');
    expect(progress.join('')).not.toContain('Overall');
  });

  it('a reporter that throws is recorded as an error and the run goes on', async () => {
    const broken: Reporter = {
      name: 'broken',
      onProbeEnd: () => {
        throw new Error('disk full');
      },
      onRunEnd: () => {
        throw new Error('still full');
      },
    };
    const { runDir, reporter } = await sampleRun([broken, nullReporter(), jsonReporter()]);
    expect(reporter.errors.map((e) => `${e.reporter}/${e.hook}: ${e.message}`)).toEqual(['broken/onProbeEnd: disk full', 'broken/onRunEnd: still full']);
    const report = JSON.parse(readFileSync(path.join(runDir, 'report.json'), 'utf8')) as Report;
    expect(report.errors).toEqual([
      { where: 'reporter broken (onProbeEnd)', message: 'disk full' },
      { where: 'reporter broken (onRunEnd)', message: 'still full' },
    ]);
  });

  it('junit output is well-formed even with control characters from a device', () => {
    const xml = renderJunit({
      ...({} as Report),
      profile: { id: 'p', title: 't' },
      device: { name: 'd\u0001', host: 'h', firmware: {} },
      run: { id: 'r', startedAt: 'now', finishedAt: 'now', durationMs: 1, incomplete: false },
      summary: { verdict: 'fail', exitCode: 1, counts: { pass: 0, fail: 1, inconclusive: 0, error: 0, 'not-applicable': 0, 'not-tested': 0 } },
      requirements: [
        {
          id: 'R',
          title: { en: 'x' },
          verdict: 'fail',
          checks: [],
          level: 'mandatory',
          assessedBy: 'device',
          confidence: 'confirmed',
          rationale: 'bad\u0000byte',
        },
      ],
      checks: [],
    });
    expect(() => new XMLParser().parse(xml)).not.toThrow();
    expect(xml.includes('\u0000') || xml.includes('\u0001')).toBe(false);
  });
});

describe('labels in both languages', () => {
  it('every check has a Japanese title and fix (English comes from the check)', () => {
    for (const c of ALL_CHECKS) {
      const ja = CHECK_TEXT_JA[c.id];
      expect({ id: c.id, title: Boolean(ja?.title), fix: Boolean(ja?.fix), en: Boolean(c.title && c.fix) }).toEqual({
        id: c.id,
        title: true,
        fix: true,
        en: true,
      });
    }
  });
});

describe('surveillance diff: keys on two units', () => {
  const base = JSON.parse(
    JSON.stringify({
      run: { id: 'r1' },
      device: { name: 'cam', firmware: {} },
      profile: { id: 'p' },
      checks: [],
      observations: {},
    }),
  ) as Report;
  const other = { ...base, run: { ...base.run, id: 'r2' } } as Report;
  const k = (sha256: string) => ({ where: 'SSH 22 ssh-ed25519 host key', sha256 });
  it('the same key on both units is worse and named; distinct keys are not; a run against itself compares nothing', () => {
    const shared = diffRuns(base, other, { a: [k('SHA256:x')], b: [k('SHA256:x')] });
    expect(shared).toMatchObject({ worse: true, keys: { shared: [{ sha256: 'SHA256:x' }] } });
    expect(renderDiffText(shared)).toMatch(/keys SHARED between the two units/);
    expect(diffRuns(base, other, { a: [k('SHA256:x')], b: [k('SHA256:y')] })).toMatchObject({ worse: false, keys: { shared: [] } });
    expect(diffRuns(base, base, { a: [k('SHA256:x')], b: [k('SHA256:x')] }).keys).toBeUndefined();
    expect(renderDiffText(diffRuns(base, other, { a: [], b: [k('SHA256:x')] }))).toMatch(/keys: not compared/);
  });
});
