/**
 * nmap as the TCP scanner when it is installed: arguments as an array (never
 * a shell string), output read from its XML (-oX -) with a real XML parser.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { findOnPath } from '../../harness/which';

export function nmapPath(): string | undefined {
  return findOnPath('nmap');
}

export interface NmapResult {
  open: number[];
  closed: number;
  filtered: number;
  xml: string;
  args: string[];
}

const MAX_XML = 8 * 1024 * 1024;

/** Run nmap with `args` (XML on stdout, bounded), and read its XML with `parse`; rejects on a non-zero exit or unreadable XML. */
function runNmap<T>(bin: string, args: string[], signal: AbortSignal, parse: (xml: string) => T): Promise<{ value: T; xml: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { signal, stdio: ['ignore', 'pipe', 'pipe'] });
    let xml = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      if (xml.length < MAX_XML) xml += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`nmap exited ${code}: ${err.trim()}`));
      try {
        resolve({ value: parse(xml), xml });
      } catch (e) {
        reject(new Error(`cannot read nmap XML: ${(e as Error).message}`));
      }
    });
  });
}

/** A TCP connect scan (-sT: full connections, so the device's connection limit holds) of `ports` on one address. */
export async function nmapScan(bin: string, address: string, ports: string, parallelism: number, signal: AbortSignal): Promise<NmapResult> {
  const args = ['-sT', '-Pn', '-n', '-T4', '--max-parallelism', String(parallelism), '--max-retries', '1', '-p', ports, '-oX', '-', address];
  if (address.includes(':')) args.unshift('-6');
  const r = await runNmap(bin, args, signal, parseNmapXml);
  return { ...r.value, xml: r.xml, args };
}

export function parseNmapXml(xml: string): Omit<NmapResult, 'xml' | 'args'> {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['host', 'port', 'extraports'].includes(name) }).parse(xml);
  const host = doc.nmaprun?.host?.[0];
  if (!doc.nmaprun) throw new Error('no <nmaprun> element');
  const ports = (host?.ports?.port ?? []) as Array<{ portid: string; state: { state: string } }>;
  const extra = (host?.ports?.extraports ?? []) as Array<{ state: string; count: string }>;
  const count = (s: string): number =>
    ports.filter((p) => p.state.state === s).length + extra.filter((e) => e.state === s).reduce((n, e) => n + Number(e.count), 0);
  return {
    open: ports.filter((p) => p.state.state === 'open').map((p) => Number(p.portid)),
    closed: count('closed'),
    filtered: count('filtered') + count('open|filtered'),
  };
}

/** One port as nmap's service detection (-sV) named it. */
export interface NmapService {
  port: number;
  name?: string;
  product?: string;
  version?: string;
  cpe: string[];
}

/** nmap's own service probes file, beside its binary (…/bin/nmap → …/share/nmap). */
function serviceProbesOf(bin: string): string | undefined {
  for (const dir of [path.join(path.dirname(bin), '..', 'share', 'nmap'), '/usr/share/nmap', '/usr/local/share/nmap']) {
    const f = path.join(dir, 'nmap-service-probes');
    if (existsSync(f)) return f;
  }
  return undefined;
}

/**
 * A data directory whose nmap-service-probes is nmap's own with every probe's wait (totalwaitms) set to `waitMs`.
 * nmap waits 5-6 s for each unanswered probe, a pace made for internet paths: on a daemon that soft-matches on its
 * greeting (a telnet login) it sends a dozen probes and takes the better part of a minute to learn nothing more. nmap
 * reads its other data files from its own directory. The caller removes it (removePacedDataDir). Undefined when nmap's
 * file is not found (nmap's own pace then).
 */
export function pacedDataDir(bin: string, waitMs: number): string | undefined {
  const src = serviceProbesOf(bin);
  if (!src) return undefined;
  // Two passes over one string (the file is ~2.5 MB): no array of its lines to make and drop in every run of a fleet.
  const text = readFileSync(src, 'latin1')
    .replace(/^totalwaitms .*\n/gm, '')
    .replace(/^(Probe .*)$/gm, `$1\ntotalwaitms ${waitMs}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'starbench-nmap-'));
  writeFileSync(path.join(dir, 'nmap-service-probes'), text, 'latin1');
  return dir;
}

export function removePacedDataDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

/**
 * Service detection (-sV --version-light) on open ports, over full connections at the device's connection limit,
 * bounded in time: product, version and CPEs per port. Rejects when nmap fails; the caller keeps what it read itself.
 * `dataDir`: nmap's data with its probes paced for the bench (pacedDataDir).
 */
export async function nmapServices(
  bin: string,
  address: string,
  ports: number[],
  parallelism: number,
  signal: AbortSignal,
  seconds = 120,
  dataDir?: string,
): Promise<{ services: NmapService[]; xml: string; args: string[]; timedOut: boolean }> {
  const args = [
    ...(dataDir ? ['--datadir', dataDir] : []),
    '-sV',
    '--version-light',
    '-sT',
    '-Pn',
    '-n',
    '--max-parallelism',
    String(parallelism),
    '--max-retries',
    '1',
    '--host-timeout',
    `${seconds}s`,
    '-p',
    ports.join(','),
    '-oX',
    '-',
    address,
  ];
  if (address.includes(':')) args.unshift('-6');
  const r = await runNmap(bin, args, signal, parseNmapServices);
  // A host timeout is not an error to nmap: the host element says so, and holds no ports.
  return { services: r.value, xml: r.xml, args, timedOut: /<host\b[^>]*\btimedout="true"/.test(r.xml) };
}

export function parseNmapServices(xml: string): NmapService[] {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ['host', 'port', 'cpe'].includes(name) }).parse(xml);
  if (!doc.nmaprun) throw new Error('no <nmaprun> element');
  const ports = (doc.nmaprun.host?.[0]?.ports?.port ?? []) as Array<{
    portid: string;
    state: { state: string };
    service?: { name?: string; product?: string; version?: string; cpe?: Array<string | { '#text': string }> };
  }>;
  return ports
    .filter((p) => p.state.state === 'open' && p.service)
    .map((p) => ({
      port: Number(p.portid),
      name: p.service!.name,
      product: p.service!.product,
      version: p.service!.version === undefined ? undefined : String(p.service!.version),
      cpe: (p.service!.cpe ?? []).map((c) => (typeof c === 'string' ? c : c['#text'])),
    }));
}
