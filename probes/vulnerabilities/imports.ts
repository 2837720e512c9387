/**
 * Scan reports labs already run, imported as evidence for the same check: a
 * Greenbone/OpenVAS XML report (get_reports) and nuclei's JSONL output. Only
 * what concerns the target is kept; a file that is not such a report, or is
 * cut off, is a FeedError naming the file (and the line).
 */
import { readFileSync, statSync } from 'node:fs';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { FeedError } from './feeds';

export type ReportFormat = 'greenbone-xml' | 'nuclei-jsonl';

export interface ScanFinding {
  tool: ReportFormat;
  host: string;
  port?: number;
  name: string;
  /** As the tool grades it: high, medium, low (log and info results are not findings). */
  severity: 'critical' | 'high' | 'medium' | 'low';
  cves: string[];
  cvss?: number;
}

export interface ImportedReport {
  format: ReportFormat;
  /** Results in the file, for any host. */
  results: number;
  /** Whether the report shows the target was scanned (a Greenbone report lists its hosts; nuclei lists only matches). */
  coversTarget: boolean;
  findings: ScanFinding[];
}

const MAX_REPORT_BYTES = 256 * 1024 * 1024;

function read(file: string): string {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new FeedError(file, 'no such file');
  }
  if (size > MAX_REPORT_BYTES) throw new FeedError(file, `is larger than ${MAX_REPORT_BYTES} bytes`);
  return readFileSync(file, 'utf8');
}

export function reportFormat(file: string, text: string): ReportFormat {
  if (/^\s*</.test(text)) return 'greenbone-xml';
  if (/^\s*\{/.test(text)) return 'nuclei-jsonl';
  throw new FeedError(file, 'is neither a Greenbone/OpenVAS XML report nor nuclei JSONL output');
}

const same = (host: string, targets: string[]): boolean => targets.includes(host.replace(/^\[|\]$/g, '').toLowerCase());
const text = (v: unknown): string =>
  Array.isArray(v)
    ? text(v[0])
    : typeof v === 'string' || typeof v === 'number'
      ? String(v)
      : v && typeof v === 'object' && '#text' in v
        ? String((v as Record<string, unknown>)['#text'])
        : '';

function grade(score: number | undefined, threat: string): ScanFinding['severity'] | undefined {
  const t = threat.toLowerCase();
  if (['log', 'debug', 'false positive', ''].includes(t) && (score ?? 0) <= 0) return undefined;
  if (score !== undefined && score >= 9) return 'critical';
  if (t === 'high' || (score ?? 0) >= 7) return 'high';
  if (t === 'medium' || (score ?? 0) >= 4) return 'medium';
  return 'low';
}

/** Every object under `key` anywhere in a parsed document (Greenbone nests <report> in <report> in <get_reports_response>). */
function allUnder(node: unknown, key: string, out: unknown[] = [], depth = 0): unknown[] {
  if (!node || typeof node !== 'object' || depth > 12) return out;
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (k === key) out.push(...(Array.isArray(v) ? v : [v]));
    else allUnder(v, key, out, depth + 1);
  }
  return out;
}

export function parseGreenbone(file: string, xml: string, targets: string[]): ImportedReport {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new FeedError(file, `is not well-formed XML at line ${valid.err.line}: ${valid.err.msg}`);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['result', 'ref', 'host'].includes(name) }).parse(
    xml,
  ) as Record<string, unknown>;
  if (allUnder(doc, 'report').length === 0) throw new FeedError(file, 'is XML but not a Greenbone/OpenVAS report (no <report>)');
  const results = allUnder(doc, 'result') as Array<Record<string, unknown>>;
  const hosts = new Set<string>();
  for (const h of allUnder(doc, 'host')) {
    const ip = h && typeof h === 'object' && 'ip' in (h as object) ? text((h as Record<string, unknown>).ip) : text(h);
    if (ip) hosts.add(ip.trim().toLowerCase());
  }
  const findings: ScanFinding[] = [];
  for (const r of results) {
    const host = text(r.host).trim();
    if (!same(host, targets)) continue;
    const nvt = (r.nvt ?? {}) as Record<string, unknown>;
    const score = Number(text(r.severity) || text(nvt.cvss_base) || NaN);
    const severity = grade(Number.isFinite(score) ? score : undefined, text(r.threat));
    if (!severity) continue;
    const refs = allUnder(nvt, 'ref') as Array<Record<string, unknown>>;
    const cves = [
      ...refs.filter((x) => String(x['@type']).toLowerCase() === 'cve').map((x) => String(x['@id'])),
      ...text(nvt.cve)
        .split(/[,\s]+/)
        .filter((c) => /^CVE-\d{4}-\d+$/.test(c)),
    ];
    const port = Number(/^(\d+)\//.exec(text(r.port))?.[1]);
    findings.push({
      tool: 'greenbone-xml',
      host,
      ...(Number.isFinite(port) ? { port } : {}),
      name: text(nvt.name) || text(r.name) || 'unnamed result',
      severity,
      cves: [...new Set(cves)],
      ...(Number.isFinite(score) ? { cvss: score } : {}),
    });
  }
  // A scan that did not finish (stopped, interrupted, still running) does not show the target clean.
  const status = allUnder(doc, 'scan_run_status').map((s) => text(s).trim());
  const finished = status.length === 0 || status.every((s) => s === 'Done');
  const coversTarget = finished && [...hosts].some((h) => same(h, targets));
  return { format: 'greenbone-xml', results: results.length, coversTarget, findings };
}

/** The host of a nuclei "matched-at" or "host" (a URL, or host:port). */
function hostOf(where: string): string {
  try {
    return new URL(where.replace(/^(?!\w+:\/\/)/, 'tcp://')).hostname;
  } catch {
    return '';
  }
}

export function parseNuclei(file: string, jsonl: string, targets: string[]): ImportedReport {
  const findings: ScanFinding[] = [];
  let results = 0;
  const lines = jsonl.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new FeedError(`${file}:${i + 1}`, i === lines.length - 1 ? 'the last line is cut off (not JSON)' : 'is not JSON');
    }
    if (!o || typeof o !== 'object' || typeof o['template-id'] !== 'string')
      throw new FeedError(`${file}:${i + 1}`, 'is not a nuclei result (no "template-id")');
    results++;
    const ip = typeof o.ip === 'string' ? o.ip : '';
    const host = hostOf(String(o['matched-at'] ?? o.host ?? ''));
    if (!same(ip, targets) && !same(host, targets)) return;
    const info = (o.info ?? {}) as Record<string, unknown>;
    const cls = (info.classification ?? {}) as Record<string, unknown>;
    const sev = String(info.severity ?? '').toLowerCase();
    if (!['critical', 'high', 'medium', 'low'].includes(sev)) return;
    const cveField = cls['cve-id'];
    const cves = (Array.isArray(cveField) ? cveField : [cveField]).filter((c): c is string => typeof c === 'string').map((c) => c.toUpperCase());
    const port = Number(o.port);
    const cvss = Number(cls['cvss-score']);
    findings.push({
      tool: 'nuclei-jsonl',
      host: ip || host,
      ...(Number.isFinite(port) && port > 0 ? { port } : {}),
      name: String(info.name ?? o['template-id']),
      severity: sev as ScanFinding['severity'],
      cves,
      ...(Number.isFinite(cvss) && cvss > 0 ? { cvss } : {}),
    });
  });
  return { format: 'nuclei-jsonl', results, coversTarget: false, findings };
}

/** Read an imported scan report; throws FeedError when it is not one. `targets`: the device's addresses, lower case. */
export function readReport(file: string, targets: string[]): ImportedReport {
  const t = read(file);
  return reportFormat(file, t) === 'greenbone-xml' ? parseGreenbone(file, t, targets) : parseNuclei(file, t, targets);
}
