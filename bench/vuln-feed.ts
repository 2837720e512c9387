/**
 * npm run bench:feed [-- RECORDS]: matching service versions against a large
 * NVD CVE JSON 2.0 feed streams it. Writes a synthetic feed of RECORDS
 * records (default 300000, about the size of the whole NVD; ~0.5 GB of JSON,
 * and its .json.gz), matches five service versions against each, and reports
 * the time, the records per second and the peak RSS (target: ≤ 150 MB, the
 * benchmark's memory target for a run). No network: local files only.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { readFeed } from '../probes/vulnerabilities/feeds';
import { inRange } from '../probes/vulnerabilities/versions';

const RECORDS = Number(process.argv[2] ?? 300_000);
const PRODUCTS = [
  'lighttpd:lighttpd',
  'dropbear_ssh_project:dropbear_ssh',
  'eclipse:mosquitto',
  'openbsd:openssh',
  'busybox:busybox',
  'acme:mini_httpd',
  'example:other',
];
const SERVICES = [
  { cpe: 'lighttpd:lighttpd', version: '1.4.35' },
  { cpe: 'dropbear_ssh_project:dropbear_ssh', version: '2022.83' },
  { cpe: 'eclipse:mosquitto', version: '2.0.11' },
  { cpe: 'openbsd:openssh', version: '8.4p1' },
  { cpe: 'busybox:busybox', version: '1.35.0' },
];

/** One NVD 2.0 record with a description and CVSS the size of real ones. */
function record(i: number): string {
  const cpe = PRODUCTS[i % PRODUCTS.length];
  const end = `${1 + (i % 9)}.${i % 50}.${i % 7}`;
  return JSON.stringify({
    cve: {
      id: `CVE-${2000 + (i % 26)}-${100000 + i}`,
      sourceIdentifier: 'cve@mitre.org',
      published: '2020-01-01T00:00:00.000',
      lastModified: '2024-01-01T00:00:00.000',
      vulnStatus: 'Analyzed',
      descriptions: [{ lang: 'en', value: `Synthetic record ${i} for the starbench feed benchmark. `.repeat(6) }],
      metrics: {
        cvssMetricV31: [
          {
            source: 'nvd@nist.gov',
            type: 'Primary',
            cvssData: { version: '3.1', vectorString: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', baseScore: 9.8, baseSeverity: 'CRITICAL' },
          },
        ],
      },
      weaknesses: [{ source: 'nvd@nist.gov', type: 'Primary', description: [{ lang: 'en', value: 'CWE-787' }] }],
      configurations: [
        {
          nodes: [
            {
              operator: 'OR',
              negate: false,
              cpeMatch: [
                {
                  vulnerable: true,
                  criteria: `cpe:2.3:a:${cpe}:*:*:*:*:*:*:*:*`,
                  versionEndExcluding: end,
                  matchCriteriaId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
                },
              ],
            },
          ],
        },
      ],
      references: [{ url: `https://example.com/advisory/${i}`, source: 'cve@mitre.org' }],
    },
  });
}

async function writeFeed(file: string): Promise<void> {
  const out = createWriteStream(file);
  const write = (s: string): Promise<void> => new Promise((resolve) => (out.write(s) ? resolve() : out.once('drain', resolve)));
  await write(
    `{"resultsPerPage":${RECORDS},"startIndex":0,"totalResults":${RECORDS},"format":"NVD_CVE","version":"2.0","timestamp":"2026-12-01T00:00:00.000","vulnerabilities":[`,
  );
  for (let i = 0; i < RECORDS; i++) await write(`${i ? ',' : ''}${record(i)}`);
  await write(']}');
  await new Promise<void>((resolve) => out.end(resolve));
}

async function measure(file: string): Promise<{ ms: number; entries: number; matches: number; peakMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const started = Date.now();
  let matches = 0;
  try {
    const r = await readFeed(file, (e) => {
      for (const a of e.affects) for (const s of SERVICES) if (a.cpe === s.cpe && inRange(s.version, a.range)) matches++;
    });
    return { ms: Date.now() - started, entries: r.entries, matches, peakMb: Math.round(Math.max(peak, process.memoryUsage().rss) / 1e6) };
  } finally {
    clearInterval(timer);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'sb-feed-'));
  try {
    const file = path.join(dir, 'nvdcve-2.0-synthetic.json');
    await writeFeed(file);
    await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz`));
    const baseline = Math.round(process.memoryUsage().rss / 1e6);
    console.log(
      `feed: ${RECORDS} records, ${(statSync(file).size / 1e6).toFixed(0)} MB of JSON (${(statSync(`${file}.gz`).size / 1e6).toFixed(0)} MB gzipped); RSS before: ${baseline} MB`,
    );
    for (const f of [file, `${file}.gz`]) {
      const m = await measure(f);
      console.log(
        `${path.basename(f)}: ${m.entries} records in ${(m.ms / 1000).toFixed(1)} s (${Math.round(m.entries / (m.ms / 1000))} records/s), ${m.matches} matches; peak RSS ${m.peakMb} MB (target ≤ 150 MB): ${m.peakMb <= 150 ? 'ok' : 'OVER'}`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
