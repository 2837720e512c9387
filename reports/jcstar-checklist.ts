/**
 * jcstar-checklist: the JC-STAR ★1 checklist as a maker fills it for IPA —
 * a row per S1.1 requirement (the supplementary themes row is no checklist
 * row), in Japanese by default (`--lang en` for English), written twice:
 * `jcstar-checklist.xlsx` (exceljs; labs work in Excel) and
 * `jcstar-checklist.csv` (UTF-8 with a BOM).
 *
 * Results follow the verdicts and never say more than they do: pass is
 * 適合 (conformant), fail 非適合, not-applicable 該当なし, and everything
 * else — not-tested, inconclusive, error — 未評価 (not evaluated), never
 * conformant. A row met through a declaration the scheme accepts (the UK PSTI
 * route for S1.1-02, -05 and -16) says so, and still shows what the device
 * test saw.
 */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import type { Verdict } from '../harness/verdict';
import { csvField } from './checklist-csv';
import type { Lang } from './i18n';
import type { Reporter } from './reporter';
import { addTable, newWorkbook } from './xlsx';

type Result = 'conformant' | 'non-conformant' | 'not-applicable' | 'not-evaluated';

export function checklistResult(verdict: Verdict): Result {
  if (verdict === 'pass') return 'conformant';
  if (verdict === 'fail') return 'non-conformant';
  if (verdict === 'not-applicable') return 'not-applicable';
  return 'not-evaluated';
}

const TEXT = {
  ja: {
    columns: ['項番', '要求事項', '評価方法', '確度', '評価結果', '根拠（試験結果の要約）', '文書・宣言の参照', '確認事項'],
    results: { conformant: '適合', 'non-conformant': '非適合', 'not-applicable': '該当なし', 'not-evaluated': '未評価' } as Record<Result, string>,
    assessedBy: { device: '実機', document: '文書', both: '文書・実機' },
    confidence: { confirmed: '一次資料で確認', secondary: '二次資料による', tentative: '暫定' },
    sheet: 'JC-STAR ★1 チェックリスト',
    unknown: '（要求事項の文言は不明）',
    device: '実機試験',
    notRun: '未実施',
    header: (r: Report) =>
      `対象機器: ${r.device.name}${r.device.model ? `（型番 ${r.device.model}）` : ''} ／ ファームウェア: ${r.device.firmware.observed ?? r.device.firmware.declared ?? '不明'} ／ 試験実施: ${r.run.startedAt} ／ starbench ${r.tool.version}`,
  },
  en: {
    columns: ['No.', 'Requirement', 'Assessed by', 'Confidence', 'Result', 'Evidence (summary of the tests)', 'Documents and declarations', 'For the reviewer'],
    results: { conformant: 'Conformant', 'non-conformant': 'Non-conformant', 'not-applicable': 'Not applicable', 'not-evaluated': 'Not evaluated' } as Record<
      Result,
      string
    >,
    assessedBy: { device: 'device', document: 'document', both: 'document and device' },
    confidence: { confirmed: 'confirmed (primary source)', secondary: 'secondary source', tentative: 'tentative' },
    sheet: 'JC-STAR star1 checklist',
    unknown: '(wording of the requirement unknown)',
    device: 'device test',
    notRun: 'not run',
    header: (r: Report) =>
      `Device: ${r.device.name}${r.device.model ? ` (model ${r.device.model})` : ''} / firmware: ${r.device.firmware.observed ?? r.device.firmware.declared ?? 'unknown'} / tested: ${r.run.startedAt} / starbench ${r.tool.version}`,
  },
};

const MAX_CELL = 2000;
const cut = (s: string): string => (s.length > MAX_CELL ? `${s.slice(0, MAX_CELL - 1)}…` : s);

export interface ChecklistRow {
  id: string;
  requirement: string;
  assessedBy: string;
  confidence: string;
  result: string;
  evidence: string;
  references: string;
  reviewer: string;
}

/** The checklist's rows: the profile's S1.1 requirements, in its order. */
export function checklistRows(report: Report, lang: Lang): ChecklistRow[] {
  const t = TEXT[lang];
  const checks = new Map(report.checks.map((c) => [c.id, c]));
  return report.requirements
    .filter((r) => !r.supplementary)
    .map((r) => {
      const title = (lang === 'ja' ? r.title.ja : undefined) ?? r.title.en;
      const evidence = r.checks.map((id) => {
        const c = checks.get(id);
        if (!c) return `${id}: ${t.notRun}`;
        const top = c.findings
          .filter((f) => f.severity !== 'info')
          .slice(0, 3)
          .map((f) => f.message);
        return `${id}: ${t.results[checklistResult(c.verdict)]} (${c.verdict}) — ${c.rationale}${top.length ? ` [${top.join('; ')}]` : ''}`;
      });
      // A declaration that meets the row (the PSTI route) is shown beside what the device test saw.
      if (r.declarations?.length && r.deviceVerdict) evidence.push(`${t.device}: ${t.results[checklistResult(r.deviceVerdict)]} (${r.deviceVerdict})`);
      const references = (r.declarations ?? []).map((d) =>
        d.source === 'route'
          ? `${d.title ?? d.route}: ${d.result} — ${d.reference}`
          : `review: ${d.result} — ${d.reference}${d.reviewer ? ` (${d.reviewer})` : ''}`,
      );
      return {
        id: r.id,
        requirement: r.confidence === 'tentative' && /not recovered/i.test(r.title.en) ? `${title} ${t.unknown}` : title,
        assessedBy: t.assessedBy[r.assessedBy],
        confidence: t.confidence[r.confidence],
        result: t.results[checklistResult(r.verdict)],
        evidence: cut(evidence.join('\n') || r.rationale),
        references: cut(references.join('\n')),
        reviewer: cut(r.reviewerPrompt ?? ''),
      };
    });
}

const cells = (r: ChecklistRow): string[] => [r.id, r.requirement, r.assessedBy, r.confidence, r.result, r.evidence, r.references, r.reviewer];

export function renderJcstarCsv(report: Report, lang: Lang): string {
  const lines = [TEXT[lang].columns.map(csvField).join(','), ...checklistRows(report, lang).map((r) => cells(r).map(csvField).join(','))];
  return `\ufeff${lines.join('\r\n')}\r\n`;
}

export async function renderJcstarXlsx(report: Report, lang: Lang): Promise<Buffer> {
  const t = TEXT[lang];
  const wb = newWorkbook(`starbench ${report.tool.version}`, new Date(report.run.finishedAt));
  addTable(wb, t.sheet, t.header(report), t.columns, checklistRows(report, lang).map(cells), [10, 48, 12, 16, 12, 70, 40, 60]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The checklist is the ★1 self-declaration's: under any other profile it is refused, not written with the wrong rows. */
export function jcstarChecklistReporter(opts: { lang?: Lang } = {}): Reporter {
  const lang = opts.lang ?? 'ja';
  return {
    name: 'jcstar-checklist',
    async onRunEnd(report, outDir) {
      if (report.profile.id !== 'jc-star-1')
        throw new Error(`jcstar-checklist is the JC-STAR ★1 checklist: judge the run under --profile jc-star-1 (this report is ${report.profile.id})`);
      writeFileAtomic(path.join(outDir, 'jcstar-checklist.csv'), renderJcstarCsv(report, lang));
      writeFileAtomic(path.join(outDir, 'jcstar-checklist.xlsx'), await renderJcstarXlsx(report, lang));
    },
  };
}
