/**
 * The EN 18031 bar on the demo device: one run, judged again under each part
 * without touching the device. Each gives a per-asset table (report.json
 * assessments, the HTML section, technical-file.json/.xlsx) in which no
 * not-applicable lacks a justification; a reviewer's answers file moves an
 * open node and is recorded as the reviewer's; a malformed answers file is
 * refused with file:line: field and writes nothing; the technical file is
 * refused under a catalog without trees; two units compared by their saved
 * runs give crypto.unique-device-keys a verdict.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDemoDevice, type DemoDevice } from '../fixtures/demo-device';
import type { Report } from '../harness/report';
import { starbench } from './helpers/cli';

const runIn = (dir: string): string =>
  path.join(
    dir,
    readdirSync(dir).find((f) => existsSync(path.join(dir, f, 'journal.jsonl')))!,
  );
const read = (dir: string): Report => JSON.parse(readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report;

describe('EN 18031 on the demo device', () => {
  let demo: DemoDevice;
  let other: DemoDevice;
  let run: string;
  let otherRun: string;
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-en18031-'));

  beforeAll(async () => {
    demo = await startDemoDevice();
    other = await startDemoDevice();
    for (const [d, sub] of [
      [demo, 'one'],
      [other, 'two'],
    ] as const) {
      const out = path.join(dir, sub);
      const r = await starbench(['run', d.writeDeviceFile(out), '--out', out, '--quiet', '--non-interactive', '--format', 'json'], { timeoutMs: 90_000 });
      expect([1, 3]).toContain(r.code);
    }
    run = runIn(path.join(dir, 'one'));
    otherRun = runIn(path.join(dir, 'two'));
  }, 200_000);
  afterAll(async () => {
    await demo?.stop();
    await other?.stop();
  });

  it.each([1, 2, 3])(
    'part %s: a per-asset table, no not-applicable without a justification, the technical file written',
    async (part) => {
      const out = path.join(dir, `part${part}`);
      const r = await starbench(['report', run, '--profile', `en-18031-${part}`, '--out', out, '--format', 'json,html,technical-file', '--quiet']);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(1);
      const report = read(out);
      expect(report.requirements.length).toBe([33, 43, 37][part - 1]);
      const walked = report.requirements.flatMap((q) => (q.assessments ?? []).map((a) => ({ q: q.id, a })));
      expect(new Set(walked.filter((w) => w.a.target.per === 'asset').map((w) => w.a.target.id)).size).toBeGreaterThanOrEqual(2);
      for (const { q, a } of walked) {
        if (a.verdict === 'not-applicable' || a.conceptual === 'not-applicable')
          expect({ q, t: a.target.id, justified: Boolean(a.justification) }).toEqual({ q, t: a.target.id, justified: true });
        // a pass rests on device evidence: a functional assessment that passed
        if (a.verdict === 'pass')
          expect({ q, t: a.target.id, evidence: [a.completeness?.verdict, a.sufficiency?.verdict].includes('pass') }).toEqual({
            q,
            t: a.target.id,
            evidence: true,
          });
      }
      expect(walked.some((w) => w.a.verdict === 'not-applicable')).toBe(true);
      const html = readFileSync(path.join(out, 'report.html'), 'utf8');
      expect(html).toContain('Decision-tree assessments');
      expect(html).toContain('notified body needed');
      const tf = JSON.parse(readFileSync(path.join(out, 'technical-file.json'), 'utf8')) as {
        rows: Array<{ requirement: string; result: string; justification: string; treePath: string }>;
      };
      expect(tf.rows.length).toBe(walked.length + report.requirements.filter((q) => !q.assessments?.length).length);
      for (const row of tf.rows.filter((x) => x.result === 'NOT APPLICABLE')) expect(row.justification.length).toBeGreaterThan(10);
      expect(readFileSync(path.join(out, 'technical-file.xlsx')).subarray(0, 2).toString()).toBe('PK');
      // GEC-1: the demo's GoAhead 2.5.0 with its CVE, and the services whose version could not be read said so, never "none"
      const gec1 = readFileSync(path.join(out, 'gec-1.csv'), 'utf8');
      expect(gec1).toMatch(/"GoAhead","2\.5\.0","http \d+: [^\n]*","CVE-2017-17562","8\.1 \(CVSS 3\.0\)"/);
      expect(gec1).toMatch(/"ssh service","","ssh \d+: the banner names no version[^\n]*","not checked: the version could not be read"/);
    },
    60_000,
  );

  it('a reviewer answers an open node; the walk goes on from it and says who answered', async () => {
    const before = read(path.join(dir, 'part1')).requirements.find((q) => q.id === 'AUM-2')!;
    const open = before.assessments!.find((a) => a.target.id === 'web-login')!;
    expect(open.path.at(-1)).toMatchObject({ node: 'DN-2', answer: 'unknown' });
    const answers = path.join(dir, 'answers.yaml');
    writeFileSync(
      answers,
      [
        'decisions:',
        '  - { profile: en-18031-1, requirement: AUM-2, target: web-login, node: DN-2, answer: no, justification: "a 4-digit PIN for the admin account", reference: "TD §5.1", reviewer: "K. Ito" }',
      ].join('\n'),
    );
    const out = path.join(dir, 'answered');
    expect((await starbench(['report', run, '--profile', 'en-18031-1', '--out', out, '--format', 'json', '--answers', answers, '--quiet'])).code).toBe(1);
    const after = read(out)
      .requirements.find((q) => q.id === 'AUM-2')!
      .assessments!.find((a) => a.target.id === 'web-login')!;
    expect(after).toMatchObject({ leaf: 'fail', verdict: 'fail' });
    expect(after.path.at(-1)).toMatchObject({ node: 'DN-2', answer: 'no', source: 'reviewer', justification: 'a 4-digit PIN for the admin account' });
  }, 30_000);

  it('a malformed answers file: file:line: field, exit 2, nothing written', async () => {
    const answers = path.join(dir, 'bad-answers.yaml');
    writeFileSync(answers, 'decisions:\n  - requirement: AUM-2\n    target: web-login\n    node: DN-2\n    answer: perhaps\n    justification: x\n');
    const out = path.join(dir, 'bad');
    const r = await starbench(['report', run, '--profile', 'en-18031-1', '--out', out, '--answers', answers]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`bad-answers\\.yaml:5: decisions\\[0\\]\\.answer`));
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(path.join(out, 'report.json'))).toBe(false);
    writeFileSync(answers, 'decisions:\n  - { requirement: AUM-2, target: web-logn, node: DN-2, answer: no, justification: x }\n');
    const typo = await starbench(['report', run, '--profile', 'en-18031-1', '--out', out, '--answers', answers]);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/target "web-logn" is not walked for AUM-2 \(its targets: web-login, ssh-login\)/);
  }, 30_000);

  it('the technical file is refused under a catalog without trees', async () => {
    const r = await starbench(['report', run, '--profile', 'jc-star-1', '--out', path.join(dir, 'jc'), '--format', 'technical-file']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/technical-file is the decision-tree table of EN 18031/);
  });

  it('CCK-3 from two units’ saved runs: not-tested alone, compared with the other unit it passes (each demo unit makes its own keys)', async () => {
    const alone = read(path.join(dir, 'part1')).checks.find((c) => c.id === 'crypto.unique-device-keys')!;
    expect(alone).toMatchObject({ verdict: 'not-tested', rationale: expect.stringContaining('--compare-keys') });
    const out = path.join(dir, 'keys');
    expect((await starbench(['report', run, '--profile', 'en-18031-1', '--out', out, '--format', 'json', '--compare-keys', otherRun, '--quiet'])).code).toBe(1);
    const c = read(out).checks.find((x) => x.id === 'crypto.unique-device-keys')!;
    expect(c.verdict).toBe('pass');
    expect(c.rationale).toMatch(/none shared/);
    const self = await starbench(['report', run, '--profile', 'en-18031-1', '--out', out, '--compare-keys', run]);
    expect(self.code).toBe(2);
    expect(self.stderr).toMatch(/is this run itself/);
  }, 30_000);
});
