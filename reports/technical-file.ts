/**
 * technical-file: the per-requirement table a maker puts in its technical
 * documentation for a decision-tree catalog (EN 18031): one row per
 * requirement and asset, mechanism or interface walked, with the tree path,
 * the three assessments, the result, the justification and the evidence it
 * rests on (the checks and their evidence files). Written as
 * `technical-file.json` and `technical-file.xlsx`; refused for a catalog
 * without trees, so a table with the wrong rows is never written.
 *
 * Results never say more than the verdicts: only pass is PASS, fail FAIL,
 * not-applicable NOT APPLICABLE (always with its justification); anything
 * else is OPEN, with what is missing.
 */
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import type { Verdict } from '../harness/verdict';
import type { Reporter } from './reporter';
import { addTable, newWorkbook } from './xlsx';

export interface TechnicalFileRow {
  requirement: string;
  title: string;
  /** asset, mechanism, interface or device, and its id. */
  target: string;
  targetTitle: string;
  /** DN-1 yes (device file: reachable) → DN-2 no (reviewer: …) → PASS */
  treePath: string;
  conceptual: Verdict;
  completeness: string;
  sufficiency: string;
  result: 'PASS' | 'FAIL' | 'NOT APPLICABLE' | 'OPEN';
  verdict: Verdict;
  justification: string;
  evidence: string;
  notifiedBody: string;
}

const RESULT: Partial<Record<Verdict, TechnicalFileRow['result']>> = { pass: 'PASS', fail: 'FAIL', 'not-applicable': 'NOT APPLICABLE' };

export function technicalFileRows(report: Report): TechnicalFileRow[] {
  const checks = new Map(report.checks.map((c) => [c.id, c]));
  const evidenceOf = (ids: readonly string[]): string =>
    ids
      .map((id) => {
        const c = checks.get(id);
        const files = c?.evidence.filter((e) => e.startsWith('evidence/')) ?? [];
        return `${id}: ${c?.verdict ?? 'not judged'}${files.length ? ` (${files.join(', ')})` : ''}`;
      })
      .join('; ');
  const rows: TechnicalFileRow[] = [];
  for (const r of report.requirements) {
    const base = { requirement: r.id, title: r.title.en, notifiedBody: r.notifiedBody ?? '' };
    if (!r.assessments?.length) {
      rows.push({
        ...base,
        target: '—',
        targetTitle: '',
        treePath: '',
        conceptual: r.verdict,
        completeness: '',
        sufficiency: '',
        result: RESULT[r.verdict] ?? 'OPEN',
        verdict: r.verdict,
        justification: r.rationale,
        evidence: evidenceOf(r.checks),
      });
      continue;
    }
    for (const a of r.assessments) {
      const steps = a.path.map((s) => `${s.node} ${s.answer} (${s.source}${s.ref ? `: ${s.ref}` : ''})`);
      if (a.leaf) steps.push(a.leaf === 'not-applicable' ? 'NOT APPLICABLE' : a.leaf.toUpperCase());
      const fn = (f: typeof a.completeness): string => (f ? `${f.verdict}: ${f.rationale}` : 'not necessary');
      const result = RESULT[a.verdict] ?? 'OPEN';
      rows.push({
        ...base,
        target: `${a.target.per} ${a.target.id}`,
        targetTitle: a.target.title ?? '',
        treePath: steps.join(' → '),
        conceptual: a.conceptual,
        completeness: fn(a.completeness),
        sufficiency: fn(a.sufficiency),
        result,
        verdict: a.verdict,
        justification: a.justification ?? (result === 'OPEN' ? `open: ${a.rationale}` : a.rationale),
        evidence: evidenceOf([...new Set([...(a.completeness?.checks ?? []), ...(a.sufficiency?.checks ?? [])])]),
      });
    }
  }
  return rows;
}

const COLUMNS = [
  'Requirement',
  'Title',
  'Asset / mechanism / interface',
  'Name',
  'Decision-tree path',
  'Conceptual',
  'Functional completeness',
  'Functional sufficiency',
  'Result',
  'Justification',
  'Evidence',
  'Notified body',
];

export async function renderTechnicalFileXlsx(report: Report, rows: readonly TechnicalFileRow[]): Promise<Buffer> {
  const wb = newWorkbook(`starbench ${report.tool.version}`, new Date(report.run.finishedAt));
  const title = `${report.profile.title} — ${report.device.name}${report.device.model ? ` (${report.device.model})` : ''}, firmware ${report.device.firmware.observed ?? report.device.firmware.declared ?? 'unknown'} — run ${report.run.id}`;
  addTable(
    wb,
    report.profile.id,
    title,
    COLUMNS,
    rows.map((r) => [
      r.requirement,
      r.title,
      r.target,
      r.targetTitle,
      r.treePath,
      r.conceptual,
      r.completeness,
      r.sufficiency,
      r.result,
      r.justification,
      r.evidence,
      r.notifiedBody,
    ]),
    [10, 40, 22, 28, 70, 14, 40, 40, 14, 60, 50, 40],
  );
  return Buffer.from(await wb.xlsx.writeBuffer());
}

export function technicalFileReporter(): Reporter {
  return {
    name: 'technical-file',
    async onRunEnd(report, outDir) {
      if (!report.requirements.some((r) => r.assessments !== undefined))
        throw new Error(
          `technical-file is the decision-tree table of EN 18031: judge the run under --profile en-18031-1, -2 or -3 (this report is ${report.profile.id})`,
        );
      const rows = technicalFileRows(report);
      const json = { profile: report.profile, device: report.device, run: { id: report.run.id, finishedAt: report.run.finishedAt }, rows };
      writeFileAtomic(path.join(outDir, 'technical-file.json'), JSON.stringify(json, null, 2) + '\n');
      writeFileAtomic(path.join(outDir, 'technical-file.xlsx'), await renderTechnicalFileXlsx(report, rows));
    },
  };
}
