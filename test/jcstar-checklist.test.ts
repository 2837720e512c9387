/**
 * The JC-STAR ★1 checklist (`--format jcstar-checklist`): written from saved
 * lab runs through the real CLI, read back with exceljs as a lab would open
 * it in Excel, and compared row by row with the report's verdicts.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import type { Report } from '../harness/report';
import { checklistResult, checklistRows, renderJcstarXlsx } from '../reports/jcstar-checklist';
import { starbench } from './helpers/cli';

const SAVED_RUNS = path.resolve(__dirname, '..', 'fixtures', 'runs');
const JA: Record<string, string> = { pass: '適合', fail: '非適合', 'not-applicable': '該当なし' };
const jaResult = (verdict: string): string => JA[verdict] ?? '未評価';

async function sheetRows(file: string): Promise<string[][]> {
  const wb = new ExcelJS.Workbook();
  await wb.xlsx.readFile(file);
  const ws = wb.worksheets[0];
  const rows: string[][] = [];
  ws.eachRow((row) => rows.push((row.values as unknown[]).slice(1).map((v) => (v === null || v === undefined ? '' : String(v)))));
  return rows;
}

async function checklist(run: string, extra: string[] = []) {
  const out = mkdtempSync(path.join(tmpdir(), 'sb-jcstar-'));
  const r = await starbench([
    'report',
    path.join(SAVED_RUNS, run),
    '--profile',
    'jc-star-1',
    '--format',
    'jcstar-checklist,json',
    '--out',
    out,
    '--quiet',
    ...extra,
  ]);
  const report = JSON.parse(readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
  return { r, out, report };
}

describe('JC-STAR ★1 checklist', () => {
  it.each(['lab-weak', 'lab-strong', 'lab-mixed'])(
    '%s: the .xlsx opens with sixteen S1.1 rows whose results follow the verdicts (Japanese by default)',
    async (run) => {
      const { r, out, report } = await checklist(run);
      expect(r.code).toBe(report.summary.exitCode);
      const rows = await sheetRows(path.join(out, 'jcstar-checklist.xlsx'));
      expect(rows[0][0]).toMatch(/^対象機器: Lab /);
      expect(rows[1]).toEqual(['項番', '要求事項', '評価方法', '確度', '評価結果', '根拠（試験結果の要約）', '文書・宣言の参照', '確認事項']);
      const body = rows.slice(2);
      expect(body.map((x) => x[0])).toEqual(Array.from({ length: 16 }, (_, i) => `S1.1-${String(i + 1).padStart(2, '0')}`));
      const verdicts = new Map(report.requirements.map((q) => [q.id, q.verdict]));
      for (const x of body) expect({ id: x[0], result: x[4] }).toEqual({ id: x[0], result: jaResult(verdicts.get(x[0])!) });
      // A row nobody tested is never conformant.
      for (const x of body.filter((y) => verdicts.get(y[0]) === 'not-tested')) expect(x[4]).toBe('未評価');
      // S1.1-09's wording is unknown, and says so; S1.1-06 shows its tentative reading.
      expect(body[8][1]).toMatch(/文言未確認.*不明/);
      expect(body[5][1]).toMatch(/暫定的な読み/);
      // The CSV has the same rows.
      const csv = parse(readFileSync(path.join(out, 'jcstar-checklist.csv'), 'utf8'), { bom: true }) as string[][];
      expect(csv.slice(1).map((x) => [x[0], x[4]])).toEqual(body.map((x) => [x[0], x[4]]));
    },
  );

  it('the weak camera: the rows its checks fail are 非適合 with the failing check as evidence', async () => {
    const { out } = await checklist('lab-weak');
    const body = (await sheetRows(path.join(out, 'jcstar-checklist.xlsx'))).slice(2);
    const row = (id: string) => body.find((x) => x[0] === id)!;
    for (const id of ['S1.1-01', 'S1.1-02', 'S1.1-04', 'S1.1-08', 'S1.1-11', 'S1.1-12', 'S1.1-13', 'S1.1-15'])
      expect({ id, result: row(id)[4] }).toEqual({ id, result: '非適合' });
    expect(row('S1.1-08')[5]).toMatch(/^update\.integrity: 非適合 \(fail\)/);
    expect(row('S1.1-05')[7]).toContain('https://example.com/security');
  });

  it('--lang en writes it in English', async () => {
    const { out } = await checklist('lab-strong', ['--lang', 'en']);
    const rows = await sheetRows(path.join(out, 'jcstar-checklist.xlsx'));
    expect(rows[1][4]).toBe('Result');
    expect(new Set(rows.slice(2).map((x) => x[4]))).toEqual(new Set(['Conformant', 'Not evaluated']));
  });

  it('under another profile the checklist is refused before anything is written (exit 2)', async () => {
    const out = mkdtempSync(path.join(tmpdir(), 'sb-jcstar-'));
    const r = await starbench(['report', path.join(SAVED_RUNS, 'lab-strong'), '--profile', 'uk-psti', '--format', 'jcstar-checklist', '--out', out]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/jcstar-checklist is the JC-STAR ★1 checklist: it needs --profile jc-star-1/);
  });

  it('results never say more than the verdict: only pass is conformant', () => {
    expect(['pass', 'fail', 'not-applicable', 'not-tested', 'inconclusive', 'error'].map((v) => checklistResult(v as never))).toEqual([
      'conformant',
      'non-conformant',
      'not-applicable',
      'not-evaluated',
      'not-evaluated',
      'not-evaluated',
    ]);
  });

  it('a row met by the PSTI route says so and still shows the device test; a cell that looks like a formula stays text', async () => {
    const { report } = await checklist('lab-weak');
    const s102 = report.requirements.find((q) => q.id === 'S1.1-02')!;
    const routed: Report = {
      ...report,
      requirements: report.requirements.map((q) =>
        q.id === 'S1.1-02'
          ? {
              ...q,
              verdict: 'pass',
              deviceVerdict: s102.verdict,
              declarations: [
                {
                  kind: 'declaration',
                  source: 'route',
                  route: 'uk-psti',
                  title: 'UK PSTI statement of compliance',
                  result: 'met',
                  reference: '=HYPERLINK("x") PSTI SoC v2',
                },
              ],
            }
          : q,
      ),
    };
    const row = checklistRows(routed, 'ja').find((x) => x.id === 'S1.1-02')!;
    expect(row.result).toBe('適合');
    expect(row.evidence).toMatch(/実機試験: 非適合 \(fail\)/);
    expect(row.references).toContain('UK PSTI statement of compliance: met');
    const wb = new ExcelJS.Workbook();
    const xlsx = await renderJcstarXlsx({ ...routed, requirements: routed.requirements.map((q) => ({ ...q, reviewerPrompt: '=1+1' })) }, 'ja');
    // exceljs's typings predate Node's generic Buffer.
    await wb.xlsx.load(xlsx as unknown as ArrayBuffer);
    const cells: unknown[] = [];
    wb.worksheets[0].eachRow((r) => cells.push(...(r.values as unknown[])));
    expect(cells.some((c) => typeof c === 'object' && c !== null && 'formula' in c)).toBe(false);
    expect(cells).toContain("'=1+1");
  });
});
