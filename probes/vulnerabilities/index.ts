/**
 * known-vulnerabilities: which software and version each open service
 * announces (SSH identification, HTTP `Server`, FTP greeting, a banner, the
 * MQTT broker's $SYS/broker/version), matched against the vulnerability
 * feeds the lab supplies (streamed, never downloaded), plus the findings of
 * scan reports the lab imports (Greenbone/OpenVAS, nuclei) that concern the
 * target. A service that could not be read is unknown; one that announces no
 * version is recorded as such.
 */
import path from 'node:path';
import { z } from 'zod';
import { defineFact } from '../../harness/facts';
import { mapLimit } from '../../harness/limiter';
import type { DeviceFile } from '../../harness/device-file/schema';
import type { Observation, Probe, ProbeContext } from '../../harness/types';
import { openPorts, type PortRecord } from '../ports';
import { httpRequest } from '../util/http';
import { mqttListen } from '../util/mqtt-listen';
import { readFeed, type FeedEntry } from './feeds';
import { readReport } from './imports';
import { identifyProduct, productFromCpe, type Identified } from './products';
import { nmapPath, nmapServices, pacedDataDir, removePacedDataDir } from '../ports/nmap';
import { describeRange, inRange, tooCoarse } from './versions';

/** What one open service announces about its software. */
export const ServiceVersionFact = defineFact(
  'service-version',
  z.object({
    port: z.number().int(),
    protocol: z.string(),
    product: z.string().optional(),
    version: z.string().optional(),
    /** Where it was read (the banner, the Server header, $SYS/broker/version), or why nothing was. */
    how: z.string(),
    /** The service could not be asked (no answer, a refusal): nothing is known about it. */
    unreadable: z.boolean().optional(),
    /** Whether any feed lists the product at all, whatever the version: a feed that does not know it cannot clear it. */
    covered: z.boolean().optional(),
    /** nmap -sV was stopped at scan.versionSeconds before it named the service: the version is unknown, not absent. */
    versionCutShort: z.number().optional(),
  }),
  (s) =>
    s.unreadable
      ? `${s.protocol} ${s.port}: ${s.how}`
      : s.versionCutShort !== undefined
        ? `${s.protocol} ${s.port}: nmap -sV was stopped at its budget of ${s.versionCutShort} s before it finished (scan.versionSeconds)`
        : null,
);
export type ServiceVersion = z.infer<typeof ServiceVersionFact.schema>;

/** A feed entry that affects the version a service announced. */
export const VulnerabilityMatchFact = defineFact(
  'vulnerability-match',
  z.object({
    port: z.number().int(),
    protocol: z.string(),
    product: z.string(),
    version: z.string(),
    id: z.string(),
    aliases: z.array(z.string()),
    cvss: z.object({ version: z.string(), score: z.number().optional(), vector: z.string().optional(), severity: z.string().optional() }).optional(),
    summary: z.string(),
    affected: z.string(),
    feed: z.string(),
  }),
);
export type VulnerabilityMatch = z.infer<typeof VulnerabilityMatchFact.schema>;

/** A finding of an imported scan report that concerns the target. */
export const ImportedFindingFact = defineFact(
  'imported-finding',
  z.object({
    report: z.string(),
    tool: z.string(),
    port: z.number().int().optional(),
    name: z.string(),
    severity: z.string(),
    cves: z.array(z.string()),
    cvss: z.number().optional(),
  }),
);
export type ImportedFinding = z.infer<typeof ImportedFindingFact.schema>;

/** One feed or report read: how many records, and whether a report shows the target scanned. An empty feed could match nothing. */
export const VulnerabilitySourceFact = defineFact(
  'vulnerability-source',
  z.object({
    file: z.string(),
    kind: z.enum(['feed', 'report']),
    format: z.string(),
    records: z.number().int(),
    coversTarget: z.boolean().optional(),
  }),
  (s) => (s.kind === 'feed' && s.records === 0 ? `${s.file}: the feed holds no vulnerability record` : null),
);
export type VulnerabilitySource = z.infer<typeof VulnerabilitySourceFact.schema>;

const SYS_VERSION = '$SYS/broker/version';

/** The feed and report files of a device, as absolute paths. */
export function vulnerabilitySources(device: Pick<DeviceFile, 'vulnerabilities' | 'baseDir'>): { feeds: string[]; reports: string[] } {
  const abs = (p: string): string => path.resolve(device.baseDir, p);
  return { feeds: (device.vulnerabilities?.feeds ?? []).map(abs), reports: (device.vulnerabilities?.reports ?? []).map(abs) };
}

/**
 * Read every feed and report once, before the run touches the device: one that is malformed or cut off stops the
 * run with its name and what is wrong (exit 2), never a silent "no vulnerabilities" after a full assessment.
 */
export async function checkVulnerabilitySources(device: Pick<DeviceFile, 'vulnerabilities' | 'baseDir' | 'target'>): Promise<void> {
  const { feeds, reports } = vulnerabilitySources(device);
  for (const f of feeds) await readFeed(f, () => undefined);
  for (const r of reports) readReport(r, targetAddresses(device));
}

/** The addresses a report's results must name to be about this device. */
export function targetAddresses(device: Pick<DeviceFile, 'target'>, resolved?: string): string[] {
  return [device.target.host, device.target.host6, resolved].filter((x): x is string => Boolean(x)).map((x) => x.toLowerCase());
}

interface Asked {
  fact: ServiceVersion;
  id?: Identified;
}

async function askService(ctx: ProbeContext, r: PortRecord, declared: string | undefined): Promise<Asked> {
  const protocol = r.service && !['unknown', 'tls'].includes(r.service) ? r.service : (declared ?? r.service ?? 'unknown');
  const base = { port: r.port, protocol };
  const found = (id: Identified | undefined, how: string, nothing: string): Asked =>
    id && tooCoarse(id.version)
      ? { fact: { ...base, how: `${how}: "${id.from}" names only a major version (${id.version}): too coarse to match` } }
      : id
        ? { fact: { ...base, product: id.product.name, version: id.version, how: `${how}: "${id.from}"` }, id }
        : { fact: { ...base, how: nothing } };
  const unreadable = (how: string): Asked => ({ fact: { ...base, how, unreadable: true } });
  const tls = r.service === 'tls' || ['https', 'mqtts', 'ftps'].includes(declared ?? '');
  if (protocol === 'http' || protocol === 'https' || (r.service === 'tls' && (declared === undefined || declared === 'https' || declared === 'http'))) {
    try {
      const res = await httpRequest(ctx, { port: r.port, tls, path: '/', maxBytes: 1024 });
      const server = [res.headers.server, res.headers['x-powered-by']].flat().filter(Boolean).join(' ');
      return found(
        server ? identifyProduct(server) : undefined,
        'HTTP Server header',
        server ? `HTTP Server header "${server.slice(0, 80)}" names no version starbench knows` : 'no Server header: the web server announces no version',
      );
    } catch (err) {
      return unreadable(`no HTTP answer: ${(err as Error).message}`);
    }
  }
  if (protocol === 'mqtt' || protocol === 'mqtts') {
    const a = ctx.device.auth.find((x) => x.port === r.port && x.credential);
    const cred = a?.credential ? ctx.device.credentials[a.credential] : undefined;
    try {
      const l = await mqttListen(ctx, r.port, tls, cred?.password !== undefined ? { username: cred.username, password: cred.password } : undefined, 1500, 4, [
        SYS_VERSION,
      ]);
      if (!l.accepted) return unreadable(`the broker refused the session (${l.error ?? 'no CONNACK'}): ${SYS_VERSION} not read`);
      const v = l.kept.get(SYS_VERSION);
      return found(
        v ? identifyProduct(v) : undefined,
        SYS_VERSION,
        v ? `${SYS_VERSION} "${v.slice(0, 80)}" names no version starbench knows` : `the broker does not publish ${SYS_VERSION}`,
      );
    } catch (err) {
      return unreadable(`no MQTT answer: ${(err as Error).message}`);
    }
  }
  if (r.banner) return found(identifyProduct(r.banner), 'banner', `the banner names no version ("${r.banner.slice(0, 60)}")`);
  return { fact: { ...base, how: 'says nothing first and is not HTTP or MQTT: no version to read' } };
}

/** A version nmap names as one release ("1.4.35"), not a guess ("1.14.0 or later", "2.0 - 3.1"). */
const CONCRETE = /^\d[\w.]*$/;

/**
 * nmap's service detection for a service that announced no version itself, when nmap is installed (and the device file
 * does not ask for the built-in scanner): started as soon as that service was asked, not after every other. One nmap
 * per port, bounded by scan.versionSeconds and paced by scan.versionProbeWaitMs: a daemon that keeps nmap guessing (a
 * telnet login soft-matches on its greeting and gets a dozen more probes) costs its own port's budget, never the whole
 * phase. nmap opens its own connections: each nmap holds a connector slot of its port's share while it runs (nmap asks
 * one port at a time: --max-parallelism 1), so the device's connection limit holds. A port nmap has not finished in
 * time is marked versionCutShort: its version is unknown, and exposure.known-vulnerabilities cannot pass.
 */
function nmapVersions(ctx: ProbeContext): { ask(a: Asked): Promise<void>; done(): void } | undefined {
  const scan = ctx.device.scan;
  const bin = scan?.scanner === 'builtin' || scan?.versionDetection === false ? undefined : nmapPath();
  if (!bin) return undefined;
  const seconds = scan?.versionSeconds ?? 12;
  // nmap's probes paced for the bench: made at the first port that needs it, removed when the probe is done.
  let dataDir: string | undefined | null = null;
  let closed = false;
  return {
    done: () => {
      closed = true;
      removePacedDataDir(dataDir ?? undefined);
    },
    ask: async (a) => {
      // After done() (the probe stopped while a worker was still asking): nothing more is started, nothing is left.
      if (closed || a.id || a.fact.unreadable) return;
      ctx.scope.assertHost(ctx.connector.host);
      if (dataDir === null) {
        try {
          dataDir = pacedDataDir(bin, scan?.versionProbeWaitMs ?? 1000);
        } catch (err) {
          // A full disk, say: nmap then runs at its own pace, within the same budget.
          ctx.log.warn({ err: (err as Error).message }, 'nmap -sV: its probes could not be paced for the bench');
          dataDir = undefined;
        }
      }
      ctx.progress(`nmap -sV on ${a.fact.port} (≤ ${seconds} s)`);
      // nmap's connections to a port are that service's: they count in its share, as a probe's own would.
      const release = await ctx.connector.slots.acquire(ctx.signal, `tcp/${a.fact.port}`);
      try {
        const r = await nmapServices(bin, ctx.connector.host, [a.fact.port], 1, ctx.signal, seconds, dataDir);
        ctx.evidence.write(`nmap-sv-${a.fact.port}.xml`, r.xml);
        const s = r.services.find((x) => x.port === a.fact.port);
        if (r.timedOut && !s?.version) {
          a.fact = { ...a.fact, how: `${a.fact.how}; nmap -sV did not name it within ${seconds} s (scan.versionSeconds)`, versionCutShort: seconds };
          return;
        }
        if (!s?.version || !CONCRETE.test(s.version)) return;
        const cpe = s.cpe.find((c) => c.startsWith('cpe:/a:'));
        if (!cpe) return;
        const withVersion = cpe.split(':').length >= 5 ? cpe : `${cpe}:${s.version}`;
        const id = productFromCpe(withVersion, s.product ?? '');
        if (!id || !CONCRETE.test(id.version) || tooCoarse(id.version)) return;
        a.id = id;
        a.fact = {
          ...a.fact,
          product: id.product.name,
          version: id.version,
          how: `nmap -sV: ${[s.product, s.version].filter(Boolean).join(' ')} (${withVersion})`,
        };
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        ctx.log.warn({ err: (err as Error).message, port: a.fact.port }, 'nmap -sV failed: the version the service announced itself stands');
      } finally {
        release();
      }
    },
  };
}

/** Every feed entry that affects an identified service. */
function matchesOf(entry: FeedEntry, asked: Asked[], feed: string): VulnerabilityMatch[] {
  const out: VulnerabilityMatch[] = [];
  for (const a0 of asked) {
    const { fact: s, id } = a0;
    if (!id || !s.version) continue;
    for (const a of entry.affects) {
      const named =
        (a.cpe !== undefined && id.product.cpe.includes(a.cpe)) || (a.package !== undefined && id.product.packages.includes(a.package.toLowerCase()));
      if (!named) continue;
      a0.fact = { ...a0.fact, covered: true };
      if (!inRange(s.version, a.range)) continue;
      out.push({
        port: s.port,
        protocol: s.protocol,
        product: id.product.name,
        version: s.version,
        id: entry.id,
        aliases: entry.aliases,
        ...(entry.cvss ? { cvss: entry.cvss } : {}),
        summary: entry.summary,
        affected: `${a.cpe ?? a.package} ${describeRange(a.range)}`,
        feed: path.basename(feed),
      });
      break;
    }
  }
  return out;
}

export const knownVulnerabilitiesProbe: Probe = {
  id: 'known-vulnerabilities',
  title: 'Service software versions matched against the lab’s vulnerability feeds, and imported scan reports',
  needs: ['host'],
  facts: [ServiceVersionFact, VulnerabilityMatchFact, ImportedFindingFact, VulnerabilitySourceFact],
  dependsOn: ['tcp-ports'],
  clauses: ['JC-STAR S1.1-13', 'EN 303 645 5.3-2', 'CRA Annex I (2)(a)'],
  skipReason(device) {
    const s = vulnerabilitySources(device);
    return s.feeds.length + s.reports.length === 0
      ? 'no vulnerability feed or scan report given (vulnerabilities.feeds / vulnerabilities.reports in the device file, or --vuln-feed)'
      : null;
  },
  async run(ctx) {
    const declared = new Map(ctx.device.services.filter((s) => s.transport === 'tcp').map((s) => [s.port, s.protocol]));
    const open = openPorts(ctx);
    const nmap = nmapVersions(ctx);
    let asked: Asked[];
    try {
      asked = await mapLimit(open, ctx.connector.slots.limit, async (r) => {
        const a = await askService(ctx, r, declared.get(r.port));
        await nmap?.ask(a);
        return a;
      });
    } finally {
      nmap?.done();
    }
    const identified = asked.filter((a) => a.id).length;
    const { feeds, reports } = vulnerabilitySources(ctx.device);
    const sources: VulnerabilitySource[] = [];
    const matches: VulnerabilityMatch[] = [];
    for (const feed of feeds) {
      ctx.progress(`matching ${identified} service version(s) against ${path.basename(feed)}`);
      const r = await readFeed(feed, (e) => {
        if (ctx.signal.aborted) throw new Error('aborted');
        matches.push(...matchesOf(e, asked, feed));
      });
      sources.push({ file: feed, kind: 'feed', format: r.format, records: r.entries });
    }
    const findings: ImportedFinding[] = [];
    const targets = targetAddresses(ctx.device, ctx.connector.host);
    for (const file of reports) {
      const r = readReport(file, targets);
      sources.push({ file, kind: 'report', format: r.format, records: r.results, coversTarget: r.coversTarget });
      for (const f of r.findings)
        findings.push({
          report: path.basename(file),
          tool: f.tool,
          ...(f.port !== undefined ? { port: f.port } : {}),
          name: f.name,
          severity: f.severity,
          cves: f.cves,
          ...(f.cvss !== undefined ? { cvss: f.cvss } : {}),
        });
    }
    const services = asked.map((a) => (a.id && feeds.length ? { ...a.fact, covered: a.fact.covered ?? false } : a.fact));
    const observations: Observation[] = [
      ...services.map((s) => ({
        kind: ServiceVersionFact.kind,
        port: s.port,
        protocol: s.protocol,
        summary: `${s.protocol} ${s.port}: ${s.version ? `${s.product} ${s.version} (${s.how})` : s.how}`,
        data: { ...s },
      })),
      ...matches.map((m) => ({
        kind: VulnerabilityMatchFact.kind,
        port: m.port,
        protocol: m.protocol,
        summary: `${m.id}${m.cvss?.score !== undefined ? ` (CVSS ${m.cvss.version} ${m.cvss.score})` : ''}: ${m.product} ${m.version} on ${m.protocol} ${m.port} (${m.affected}, ${m.feed})`,
        data: { ...m },
      })),
      ...findings.map((f) => ({
        kind: ImportedFindingFact.kind,
        ...(f.port !== undefined ? { port: f.port } : {}),
        summary: `${f.tool} ${f.severity}: ${f.name}${f.cves.length ? ` (${f.cves.join(', ')})` : ''}`,
        data: { ...f },
      })),
      ...sources.map((s) => ({
        kind: VulnerabilitySourceFact.kind,
        summary: `${s.kind} ${path.basename(s.file)} (${s.format}): ${s.records} record(s)${s.coversTarget === undefined ? '' : s.coversTarget ? ', the target scanned' : ', the target not listed as scanned'}`,
        data: { ...s },
      })),
    ];
    return { observations };
  },
};
