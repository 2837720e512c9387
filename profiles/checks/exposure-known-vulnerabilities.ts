/**
 * exposure.known-vulnerabilities — JC-STAR S1.1-13 (its second half), CRA
 * Annex I (2)(a), EN 303 645 5.3-2: no service runs a version with a known
 * vulnerability in the lab's feed, and no imported scan report found one.
 *
 * A match rests on the version the service announced: a distribution that
 * backported a fix keeps the old version string, so a match names where the
 * version was read for the lab to confirm.
 */
import { basis, factsOf } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, Finding } from '../../harness/types';
import { ImportedFindingFact, ServiceVersionFact, VulnerabilityMatchFact, VulnerabilitySourceFact } from '../../probes/vulnerabilities';
import { discoveryFailure, noServiceJudgement } from './discovery';

const PROBE = 'known-vulnerabilities';

export const knownVulnerabilitiesCheck: Check = {
  id: 'exposure.known-vulnerabilities',
  title: 'No service runs a version with a known vulnerability (the lab’s feed, imported scan reports)',
  failsWhen: 'a service announces a version a feed lists as vulnerable, or an imported scan report lists a vulnerability on the target',
  probes: [PROBE],
  implemented: true,
  fix: 'Update the named components to a fixed release (and stop announcing versions in banners); keep an SBOM and watch it against the vulnerability databases.',
  judge(input) {
    const g = gate(input, PROBE);
    if (!g.ok) return g.judgement;
    const services = factsOf(g.result, ServiceVersionFact);
    const matches = factsOf(g.result, VulnerabilityMatchFact);
    const imported = factsOf(g.result, ImportedFindingFact);
    const sources = factsOf(g.result, VulnerabilitySourceFact);
    const findings: Finding[] = [];
    for (const m of matches)
      findings.push({
        severity: (m.cvss?.score ?? 0) >= 7 ? 'high' : (m.cvss?.score ?? 5) >= 4 ? 'medium' : 'low',
        port: m.port,
        protocol: m.protocol,
        message: `${m.id}${m.aliases.length ? ` (${m.aliases.slice(0, 3).join(', ')})` : ''}${m.cvss ? `, CVSS ${m.cvss.version} ${m.cvss.score ?? m.cvss.vector ?? ''}` : ''}: ${m.product} ${m.version} on ${m.protocol} ${m.port} (feed ${m.feed}: ${m.affected})${m.summary ? ` — ${m.summary.slice(0, 160)}` : ''}`,
      });
    for (const f of imported)
      findings.push({
        severity: f.severity === 'critical' ? 'high' : (f.severity as Finding['severity']),
        ...(f.port !== undefined ? { port: f.port } : {}),
        message: `${f.tool} (${f.report}) ${f.severity}: ${f.name}${f.cves.length ? ` — ${f.cves.join(', ')}` : ''}${f.cvss !== undefined ? `, CVSS ${f.cvss}` : ''}`,
      });
    const noVersion = services.filter((s) => !s.version && !s.unreadable);
    const unreadable = services.filter((s) => s.unreadable);
    for (const s of noVersion)
      findings.push({ severity: 'info', port: s.port, protocol: s.protocol, message: `${s.protocol} ${s.port}: ${s.how} (not matched)` });
    if (matches.length || imported.length) {
      const ids = [
        ...new Set([
          ...matches.map((m) => `${m.id} on ${m.protocol} ${m.port}`),
          ...imported.flatMap((f) => (f.cves.length ? f.cves : [f.name]).map((c) => `${c} (${f.tool})`)),
        ]),
      ];
      return {
        verdict: 'fail',
        rationale: `known vulnerabilities: ${ids.slice(0, 8).join('; ')}${ids.length > 8 ? `; and ${ids.length - 8} more` : ''}`,
        findings,
      };
    }
    const emptyFeeds = sources.filter((s) => s.kind === 'feed' && s.records === 0);
    if (emptyFeeds.length)
      return {
        verdict: 'inconclusive',
        rationale: `the feed ${emptyFeeds.map((s) => s.file).join(', ')} holds no record: nothing could have matched`,
        findings,
      };
    // nmap stopped at its budget: what it might have named later is unknown, not absent.
    const cut = services.filter((s) => s.versionCutShort !== undefined && !s.version);
    if (cut.length)
      return {
        verdict: 'inconclusive',
        rationale: `no known vulnerability found, but nmap -sV was stopped at its budget before it finished on ${cut.map((s) => `${s.protocol} ${s.port} (${s.versionCutShort} s)`).join(', ')}: its version is unknown (raise scan.versionSeconds)`,
        findings,
      };
    if (unreadable.length)
      return {
        verdict: 'inconclusive',
        rationale: `no known vulnerability found, but ${unreadable.map((s) => `${s.protocol} ${s.port} (${s.how})`).join('; ')} could not be asked`,
        findings,
      };
    const feeds = sources.filter((s) => s.kind === 'feed');
    const coveringReports = sources.filter((s) => s.kind === 'report' && s.coversTarget);
    const identified = services.filter((s) => s.version);
    // A feed that lists nothing at all for a product cannot clear it (a feed of one year, or of another ecosystem).
    const unknownToFeeds = identified.filter((s) => s.covered === false);
    if (feeds.length > 0 && unknownToFeeds.length && coveringReports.length === 0)
      return {
        verdict: 'inconclusive',
        rationale: `no known vulnerability matched, but the feed(s) list nothing at all for ${unknownToFeeds.map((s) => `${s.product} (${s.protocol} ${s.port})`).join(', ')}: they cannot clear it — use a complete feed`,
        findings,
      };
    if (services.length === 0 && coveringReports.length === 0) {
      const blind = discoveryFailure(input);
      if (blind) return { verdict: 'inconclusive', rationale: `no open service to match, and ${blind}`, findings };
      return noServiceJudgement(input, 'TCP');
    }
    // The control: a feed only speaks for versions it could be matched against; a report only for a target it scanned.
    const byFeed = feeds.length > 0 && identified.length > 0;
    if (!byFeed && coveringReports.length === 0)
      return {
        verdict: 'inconclusive',
        rationale:
          feeds.length > 0
            ? `no service announced a version to match against ${feeds.map((s) => s.file.split('/').pop()).join(', ')} (${noVersion.map((s) => `${s.protocol} ${s.port}`).join(', ')}); import a scan report that covers the target, or confirm the versions from the maker's SBOM`
            : 'the imported report(s) do not show the target as scanned (nuclei lists only what it matched): no evidence that nothing is there',
        findings,
      };
    const parts: string[] = [];
    if (byFeed)
      parts.push(
        `${identified.map((s) => `${s.product} ${s.version} (${s.protocol} ${s.port})`).join(', ')} match nothing in ${feeds.length} feed(s) of ${feeds.reduce((n, s) => n + s.records, 0)} records`,
      );
    if (coveringReports.length) parts.push(`${coveringReports.map((s) => s.file.split('/').pop()).join(', ')} list no vulnerability on the target`);
    if (noVersion.length) parts.push(`not matched, announcing no version: ${noVersion.map((s) => `${s.protocol} ${s.port}`).join(', ')}`);
    return {
      verdict: 'pass',
      rationale: parts.join('; '),
      findings,
      basis: basis([PROBE, ServiceVersionFact], [PROBE, VulnerabilitySourceFact]).filter((b) => b.kind !== ServiceVersionFact.kind || services.length > 0),
    };
  },
};
