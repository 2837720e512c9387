/**
 * checklist.csv: one row per requirement of the profile — the shape a maker
 * fills for a scheme's self-declaration checklist (IPA's ★1 list, a CLS
 * application): id, titles, level, assessed by, verdict, what the evidence
 * says, and what a reviewer still has to look at. UTF-8 with a BOM so
 * spreadsheet programs read the Japanese titles; RFC 4180 quoting.
 */
import { safeCell } from './xlsx';
import path from 'node:path';
import { writeFileAtomic } from '../harness/atomic';
import type { Report } from '../harness/report';
import type { Reporter } from './reporter';

export const CHECKLIST_COLUMNS = [
  'id',
  'title_en',
  'title_ja',
  'level',
  'assessed_by',
  'confidence',
  'verdict',
  'checks',
  'evidence_summary',
  'reviewer_prompt',
  'declarations',
] as const;

const MAX_SUMMARY = 1500;

/** RFC 4180: quote every field, double the quotes; a leading = + - @ is neutralised so a spreadsheet never runs it as a formula. */
export function csvField(value: string): string {
  return `"${safeCell(value).replace(/"/g, '""')}"`;
}

function evidenceSummary(report: Report, checkIds: string[]): string {
  const checks = new Map(report.checks.map((c) => [c.id, c]));
  const parts = checkIds.map((id) => {
    const c = checks.get(id);
    if (!c) return `${id}: not run`;
    const top = c.findings
      .filter((f) => f.severity !== 'info')
      .slice(0, 3)
      .map((f) => f.message);
    return `${id}: ${c.verdict} — ${c.rationale}${top.length ? ` [${top.join('; ')}]` : ''}`;
  });
  const text = parts.join(' | ');
  return text.length > MAX_SUMMARY ? `${text.slice(0, MAX_SUMMARY - 1)}…` : text;
}

export function renderChecklistCsv(report: Report): string {
  const rows = [CHECKLIST_COLUMNS.map((c) => csvField(c)).join(',')];
  const checks = new Map(report.checks.map((c) => [c.id, c]));
  for (const r of report.requirements) {
    const fields = [
      r.id,
      r.title.en,
      r.title.ja ?? '',
      r.level,
      r.assessedBy,
      r.confidence,
      r.verdict,
      r.checks.map((id) => `${id}=${checks.get(id)?.verdict ?? 'not-run'}`).join(' '),
      r.checks.length ? evidenceSummary(report, r.checks) : r.rationale,
      r.reviewerPrompt ?? '',
      (r.declarations ?? [])
        .map((d) => (d.source === 'route' ? `${d.route}: ${d.result} (${d.reference})` : `review: ${d.result} (${d.reference})`))
        .join(' | '),
    ];
    rows.push(fields.map(csvField).join(','));
  }
  return `\ufeff${rows.join('\r\n')}\r\n`;
}

export function checklistCsvReporter(): Reporter {
  return {
    name: 'checklist-csv',
    onRunEnd(report, outDir) {
      writeFileAtomic(path.join(outDir, 'checklist.csv'), renderChecklistCsv(report));
    },
  };
}
