/**
 * Vulnerability feeds the lab supplies, read as streams (a full NVD is
 * gigabytes of JSON: one record at a time, never the whole file): NVD CVE
 * JSON 2.0 (the API's and the data feeds' format, `.json` or `.json.gz`) and
 * OSV records (one object, an array, or a folder of them). A feed that is not
 * what it claims, or ends half-way, is a FeedError naming the file and what
 * is wrong — never an empty feed that matches nothing.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/Pick';
import { streamArray } from 'stream-json/streamers/StreamArray';
import { StarbenchError } from '../../harness/errors';
import type { VersionRange } from './versions';

export type FeedFormat = 'nvd-json-2.0' | 'osv';

export interface Cvss {
  version: string;
  score?: number;
  vector?: string;
  severity?: string;
}

/** One vulnerability as starbench matches it, whatever feed it came from. */
export interface FeedEntry {
  id: string;
  aliases: string[];
  summary: string;
  cvss?: Cvss;
  /** What it affects: a CPE vendor:product (NVD) or a package name (OSV), and the versions. */
  affects: Array<{ cpe?: string; package?: string; range: VersionRange }>;
}

/** A feed or report that cannot be read as what it is: the file, where, and what is wrong. */
export class FeedError extends StarbenchError {
  constructor(
    readonly file: string,
    what: string,
  ) {
    super('VULN_SOURCE_INVALID', `${file}: ${what}`);
  }
}

const MAX_OSV_FILES = 1_000_000;
const MAX_VERSIONS = 500;

/** The first bytes of a file (gunzipped when it is .gz), to tell a format before streaming it. */
async function head(file: string, bytes = 4096): Promise<string> {
  const s = open(file);
  const chunks: Buffer[] = [];
  let n = 0;
  try {
    for await (const c of s) {
      chunks.push(c as Buffer);
      n += (c as Buffer).length;
      if (n >= bytes) break;
    }
  } catch (err) {
    throw new FeedError(file, `cannot be read: ${(err as Error).message}`);
  } finally {
    s.destroy();
  }
  return Buffer.concat(chunks).subarray(0, bytes).toString('utf8');
}

function open(file: string): Readable {
  const raw = createReadStream(file);
  return file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
}

/** What a feed path holds: an NVD JSON 2.0 feed, or OSV (a record, an array, a folder). */
export async function feedFormat(file: string): Promise<FeedFormat> {
  if (!existsSync(file)) throw new FeedError(file, 'no such file or folder');
  if (statSync(file).isDirectory()) return 'osv';
  const text = await head(file);
  if (!/^\s*[[{]/.test(text)) throw new FeedError(file, 'is not JSON (an NVD CVE JSON 2.0 feed or OSV records)');
  if (/"vulnerabilities"\s*:/.test(text) || /"format"\s*:\s*"NVD_CVE"/.test(text)) return 'nvd-json-2.0';
  if (/"(schema_version|affected|modified)"\s*:/.test(text) || /^\s*\[/.test(text)) return 'osv';
  throw new FeedError(file, 'is neither an NVD CVE JSON 2.0 feed (no "vulnerabilities") nor OSV records (no "affected")');
}

// ---- NVD CVE JSON 2.0 -------------------------------------------------------

interface NvdCpeMatch {
  vulnerable?: boolean;
  criteria?: string;
  versionStartIncluding?: string;
  versionStartExcluding?: string;
  versionEndIncluding?: string;
  versionEndExcluding?: string;
}
interface NvdMetric {
  type?: string;
  cvssData?: { version?: string; baseScore?: number; vectorString?: string; baseSeverity?: string };
  baseSeverity?: string;
}
interface NvdCve {
  id?: unknown;
  descriptions?: Array<{ lang?: string; value?: string }>;
  metrics?: Record<string, NvdMetric[] | undefined>;
  configurations?: Array<{ nodes?: Array<{ cpeMatch?: NvdCpeMatch[] }> }>;
}

/** The best CVSS an NVD record gives: v3.1, then v3.0, v4.0, v2; the primary source first. */
function nvdCvss(metrics: NvdCve['metrics']): Cvss | undefined {
  for (const key of ['cvssMetricV31', 'cvssMetricV30', 'cvssMetricV40', 'cvssMetricV2']) {
    const list = metrics?.[key];
    if (!Array.isArray(list) || list.length === 0) continue;
    const m = list.find((x) => x.type === 'Primary') ?? list[0];
    const d = m.cvssData ?? {};
    return {
      version: d.version ?? key.replace('cvssMetricV', '').replace(/(\d)(\d)/, '$1.$2'),
      score: d.baseScore,
      vector: d.vectorString,
      severity: d.baseSeverity ?? m.baseSeverity,
    };
  }
  return undefined;
}

/** cpe:2.3:a:vendor:product:version:update:…: an application's vendor:product and the versions the match names. */
function nvdAffect(m: NvdCpeMatch): FeedEntry['affects'][number] | undefined {
  if (m.vulnerable === false || typeof m.criteria !== 'string') return undefined;
  const parts = m.criteria.split(/(?<!\\):/);
  if (parts[0] !== 'cpe' || parts[1] !== '2.3' || parts[2] !== 'a' || parts.length < 6) return undefined;
  const cpe = `${parts[3]}:${parts[4]}`.replace(/\\/g, '');
  const version = parts[5].replace(/\\/g, '');
  const update = parts[6] && parts[6] !== '*' && parts[6] !== '-' ? parts[6] : '';
  if (version === '-') return undefined;
  if (version !== '*') return { cpe, range: { exact: `${version}${update}` } };
  const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
  const range: VersionRange = {
    startIncluding: str(m.versionStartIncluding),
    startExcluding: str(m.versionStartExcluding),
    endIncluding: str(m.versionEndIncluding),
    endExcluding: str(m.versionEndExcluding),
  };
  // "every version" with no bound is too broad to match a product on (NVD uses it for disputed or unversioned records).
  if (Object.values(range).every((v) => v === undefined)) return undefined;
  return { cpe, range };
}

export function nvdEntry(cve: NvdCve, file: string, index: number): FeedEntry {
  return guarded(`${file} (vulnerabilities[${index}])`, () => nvdEntryOf(cve, file, index));
}

function nvdEntryOf(cve: NvdCve, file: string, index: number): FeedEntry {
  if (typeof cve.id !== 'string' || !/^CVE-\d{4}-\d+$/.test(cve.id))
    throw new FeedError(file, `vulnerabilities[${index}] has no cve.id of the form CVE-YYYY-NNNN`);
  const affects = (cve.configurations ?? []).flatMap((c) => (c.nodes ?? []).flatMap((n) => (n.cpeMatch ?? []).map(nvdAffect))).filter((a) => a !== undefined);
  const summary = (cve.descriptions ?? []).find((d) => d.lang === 'en')?.value ?? '';
  return { id: cve.id, aliases: [], summary: summary.slice(0, 300), cvss: nvdCvss(cve.metrics), affects };
}

async function streamNvd(file: string, each: (e: FeedEntry) => void): Promise<number> {
  let n = 0;
  const source = open(file);
  // pipe() does not pass errors on: every stage is listened to (a cut-off file is the parser's error).
  const json = source.pipe(parser());
  const picked = json.pipe(pick({ filter: 'vulnerabilities' }));
  const items = picked.pipe(streamArray());
  await new Promise<void>((resolve, reject) => {
    let done = false;
    const fail = (err: Error): void => {
      if (done) return;
      done = true;
      source.destroy();
      reject(err instanceof FeedError ? err : new FeedError(file, `is truncated or not valid JSON (${err.message})`));
    };
    for (const s of [source, json, picked, items]) s.on('error', fail);
    items.on('data', ({ value }: { value: { cve?: NvdCve } }) => {
      try {
        if (!value || typeof value !== 'object' || !value.cve) throw new FeedError(file, `vulnerabilities[${n}] has no "cve" object`);
        each(nvdEntry(value.cve, file, n));
        n++;
      } catch (err) {
        items.destroy();
        fail(err as Error);
      }
    });
    items.on('end', () => {
      if (!done) resolve();
    });
  });
  return n;
}

// ---- OSV ---------------------------------------------------------------------

interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}
interface OsvRecord {
  id?: unknown;
  aliases?: unknown;
  summary?: string;
  details?: string;
  severity?: Array<{ type?: string; score?: string }>;
  affected?: Array<{ package?: { name?: string; ecosystem?: string }; ranges?: Array<{ type?: string; events?: OsvEvent[] }>; versions?: unknown }>;
}

/** A record that is not what its format says (a null in a list, a number where text goes) is the feed's error, never a crash. */
function guarded<T>(where: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FeedError) throw err;
    throw new FeedError(where, `holds a record that is not what its format says (${(err as Error).message})`);
  }
}

export function osvEntry(r: OsvRecord, where: string): FeedEntry {
  return guarded(where, () => osvEntryOf(r, where));
}

function osvEntryOf(r: OsvRecord, where: string): FeedEntry {
  if (!r || typeof r !== 'object' || typeof r.id !== 'string' || !r.id) throw new FeedError(where, 'an OSV record has no "id"');
  if (!Array.isArray(r.affected)) throw new FeedError(where, `OSV record ${r.id} has no "affected" list`);
  const affects: FeedEntry['affects'] = [];
  for (const a of r.affected) {
    const pkg = a.package?.name;
    if (!pkg) continue;
    for (const range of a.ranges ?? []) {
      // GIT ranges name commits, not versions a banner shows.
      if (range.type === 'GIT') continue;
      // "introduced" opens a range, "fixed"/"last_affected" close it; one left open (no fix yet) affects every later version.
      let open: { start?: string } | undefined;
      for (const e of range.events ?? []) {
        if (e.introduced !== undefined) open = { start: String(e.introduced) === '0' ? undefined : String(e.introduced) };
        else if (e.fixed !== undefined) {
          affects.push({ package: String(pkg), range: { startIncluding: open?.start, endExcluding: String(e.fixed) } });
          open = undefined;
        } else if (e.last_affected !== undefined) {
          affects.push({ package: String(pkg), range: { startIncluding: open?.start, endIncluding: String(e.last_affected) } });
          open = undefined;
        }
      }
      if (open) affects.push({ package: String(pkg), range: { startIncluding: open.start ?? '0' } });
    }
    if (Array.isArray(a.versions))
      for (const v of a.versions.slice(0, MAX_VERSIONS)) if (typeof v === 'string') affects.push({ package: pkg, range: { exact: v } });
  }
  const cvss = (r.severity ?? []).find((s) => /^CVSS_V[34]/.test(s.type ?? '') && typeof s.score === 'string');
  return {
    id: r.id,
    aliases: Array.isArray(r.aliases) ? r.aliases.filter((x): x is string => typeof x === 'string') : [],
    summary: String(r.summary ?? r.details ?? '').slice(0, 300),
    cvss: cvss ? { version: cvss.type!.replace('CVSS_V', ''), vector: cvss.score } : undefined,
    affects,
  };
}

function osvFile(file: string, each: (e: FeedEntry) => void): number {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new FeedError(file, `is truncated or not valid JSON (${(err as Error).message})`);
  }
  const list = Array.isArray(data) ? data : [data];
  list.forEach((r, i) => each(osvEntry(r as OsvRecord, Array.isArray(data) ? `${file}[${i}]` : file)));
  return list.length;
}

async function streamOsv(file: string, each: (e: FeedEntry) => void): Promise<number> {
  if (!statSync(file).isDirectory()) {
    // A large array streams; a single record (or a small file) is read whole.
    if (statSync(file).size < 8 * 1024 * 1024 || !(await head(file, 64)).trimStart().startsWith('[')) return osvFile(file, each);
    let n = 0;
    const source = open(file);
    const json = source.pipe(parser());
    const items = json.pipe(streamArray());
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error): void => {
        source.destroy();
        reject(err instanceof FeedError ? err : new FeedError(file, `is truncated or not valid JSON (${err.message})`));
      };
      for (const s of [source, json, items]) s.on('error', fail);
      items.on('data', ({ value }: { value: OsvRecord }) => {
        try {
          each(osvEntry(value, `${file}[${n}]`));
          n++;
        } catch (err) {
          items.destroy();
          fail(err as Error);
        }
      });
      items.on('end', resolve);
    });
    return n;
  }
  let n = 0;
  const files = readdirSync(file, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length > MAX_OSV_FILES) throw new FeedError(file, `holds more than ${MAX_OSV_FILES} files`);
  for (const f of files) n += osvFile(path.join(file, f), each);
  return n;
}

/** Every entry of a feed, one at a time; the number read. Throws FeedError when the feed is not what it says. */
export async function readFeed(file: string, each: (e: FeedEntry) => void): Promise<{ format: FeedFormat; entries: number }> {
  const format = await feedFormat(file);
  const entries = format === 'nvd-json-2.0' ? await streamNvd(file, each) : await streamOsv(file, each);
  return { format, entries };
}
