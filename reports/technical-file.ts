/**
 * technical-file: the per-requirement table a maker puts in its technical
 * documentation for a decision-tree catalog (EN 18031): one row per
 * requirement and asset, mechanism or interface walked, with the tree path,
 * the three assessments, the result, the justification and the evidence it
 * rests on (the checks and their evidence files). Written as
 * `technical-file.json` and `technical-file.xlsx`, with the GEC-1 table
 * (component, version, vulnerability, the maker's mitigation) as a second
 * sheet and `gec-1.csv`; refused for a catalog
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
import { csvField } from './checklist-csv';

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

/** One row of the GEC-1 table: a component the device showed, and each known vulnerability of its version (or why none is listed). */
export interface Gec1Row {
  component: string;
  version: string;
  where: string;
  vulnerability: string;
  cvss: string;
  summary: string;
  /** The maker completes it: starbench records what the device showed, not what the maker did about it. */
  mitigation: string;
  source: string;
}

interface SeenVersion {
  port: number;
  protocol: string;
  product?: string;
  version?: string;
  how: string;
  unreadable?: boolean;
  covered?: boolean;
}
interface SeenMatch {
  port: number;
  product: string;
  version: string;
  id: string;
  aliases: string[];
  cvss?: { version: string; score?: number };
  summary: string;
  feed: string;
}

/**
 * The GEC-1 table for the technical file, from the known-vulnerabilities probe's observations: per service, the
 * component and version read (and where), then each vulnerability the feeds list for it. A service whose version
 * could not be read, or whose product no feed lists, says so: an empty cell is never "none known".
 */
export function gec1Rows(report: Report): Gec1Row[] {
  const obs = report.observations['known-vulnerabilities']?.observations ?? [];
  const versions = obs.filter((o) => o.kind === 'service-version').map((o) => o.data as unknown as SeenVersion);
  const matches = obs.filter((o) => o.kind === 'vulnerability-match').map((o) => o.data as unknown as SeenMatch);
  const rows: Gec1Row[] = [];
  for (const v of versions) {
    const base = {
      component: v.product ?? `${v.protocol} service`,
      version: v.version ?? '',
      where: `${v.protocol} ${v.port}: ${v.how}`,
      mitigation: '',
      source: '',
    };
    const mine = matches.filter((m) => m.port === v.port);
    if (mine.length) {
      for (const m of mine)
        rows.push({
          ...base,
          vulnerability: [m.id, ...m.aliases].join(', '),
          cvss: m.cvss?.score !== undefined ? `${m.cvss.score} (CVSS ${m.cvss.version})` : '',
          summary: m.summary,
          source: m.feed,
        });
      continue;
    }
    const why =
      v.unreadable || !v.version
        ? 'not checked: the version could not be read'
        : v.covered
          ? 'none listed in the feeds for this version'
          : 'not checked: no feed lists this product';
    rows.push({ ...base, vulnerability: why, cvss: '', summary: '' });
  }
  return rows;
}

const GEC1_COLUMNS = ['Component', 'Version', 'Where read', 'Vulnerability', 'CVSS', 'Summary', 'Mitigation / justification (maker)', 'Source'];
const gec1Cells = (r: Gec1Row): string[] => [r.component, r.version, r.where, r.vulnerability, r.cvss, r.summary, r.mitigation, r.source];

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

export async function renderTechnicalFileXlsx(report: Report, rows: readonly TechnicalFileRow[], gec1: readonly Gec1Row[]): Promise<Buffer> {
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
  addTable(wb, 'GEC-1', `GEC-1 known vulnerabilities — ${title}`, GEC1_COLUMNS, gec1.map(gec1Cells), [18, 12, 40, 28, 14, 60, 40, 30]);
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
      const gec1 = gec1Rows(report);
      const json = { profile: report.profile, device: report.device, run: { id: report.run.id, finishedAt: report.run.finishedAt }, rows, gec1 };
      writeFileAtomic(path.join(outDir, 'technical-file.json'), JSON.stringify(json, null, 2) + '\n');
      writeFileAtomic(path.join(outDir, 'technical-file.xlsx'), await renderTechnicalFileXlsx(report, rows, gec1));
      writeFileAtomic(path.join(outDir, 'gec-1.csv'), `\ufeff${[GEC1_COLUMNS, ...gec1.map(gec1Cells)].map((r) => r.map(csvField).join(',')).join('\r\n')}\r\n`);
    },
  };
}
