/** comms.tls — EN 303 645 5.5-1, 5.5-7: TLS services use current protocols, suites, keys and valid certificates. */
import type { Check, Finding } from '../../harness/types';
import { gate } from '../../harness/gate';
import { noServiceJudgement } from './discovery';
import { factsOf, basis } from '../../harness/facts';
import { TlsServiceFact } from '../../probes/tls';
import { TLS_VERSIONS } from '../../probes/tls/hello';

const LEGACY_VERSIONS = ['SSLv3', 'TLSv1', 'TLSv1.1'] as const;
// NIST SP 800-57 / BSI TR-02102: RSA below 2048 bits and EC below 256 bits are no longer acceptable.
const MIN_BITS: Record<string, number> = { rsa: 2048, 'rsa-pss': 2048, dsa: 2048, ec: 256 };

export const tlsCheck: Check = {
  id: 'comms.tls',
  title: 'TLS services use current protocols, ciphers, keys and valid certificates',
  failsWhen: 'a TLS service accepts SSL/TLS<1.2, weak ciphers, weak keys, or an expired/invalid certificate',
  probes: ['tls'],
  implemented: true,
  fix: 'Offer only TLS 1.2 and 1.3 with AEAD suites (AES-GCM, ChaCha20-Poly1305) and ECDHE; use an RSA ≥ 2048 or EC ≥ 256 key with a SHA-256 (or better) signature, and renew certificates before they expire.',
  judge(input) {
    const g = gate(input, 'tls');
    if (!g.ok) return g.judgement;
    const when = Date.parse(g.result.startedAt ?? new Date().toISOString());
    const services = factsOf(g.result, TlsServiceFact);
    if (services.length === 0) return noServiceJudgement(input, 'TLS');
    const findings: Finding[] = [];
    const unsure: string[] = [];
    for (const s of services) {
      const at = { port: s.port, protocol: 'tls' };
      for (const v of LEGACY_VERSIONS) if (s.versions[v].accepted) findings.push({ ...at, severity: 'high', message: `TLS ${s.port} accepts ${v}` });
      const byWhy = new Map<string, string[]>();
      for (const w of s.weakSuites) byWhy.set(w.why, [...(byWhy.get(w.why) ?? []), `${w.suite} (${w.version})`]);
      for (const [why, list] of byWhy) findings.push({ ...at, severity: 'high', message: `TLS ${s.port} accepts ${why} suites: ${list.join(', ')}` });
      for (const v of TLS_VERSIONS) if (s.versions[v].accepted === null) unsure.push(`${s.port} ${v}: ${s.versions[v].error}`);
      for (const v of TLS_VERSIONS)
        if (s.versions[v].accepted === true && s.versions[v].error) unsure.push(`${s.port} ${v} suites not all enumerated: ${s.versions[v].error}`);
      if (!TLS_VERSIONS.some((v) => s.versions[v].accepted)) unsure.push(`${s.port}: no TLS version answered`);
      for (const gap of s.certificateGaps ?? []) unsure.push(`${s.port}: ${gap}`);
      if (!s.certificate) {
        unsure.push(`${s.port} certificate: ${s.certificateError}`);
        continue;
      }
      for (const c of [s.certificate, ...(s.otherCertificates ?? [])])
        findings.push(...certificateFindings(s.port, c, s.otherCertificates?.length ? ` (${c.keyType.toUpperCase()})` : '', when, input.device.target.host));
    }
    const failures = findings.filter((f) => f.severity === 'high');
    if (failures.length > 0)
      return { verdict: 'fail', rationale: `${failures.length} TLS weakness(es) on ${[...new Set(failures.map((f) => f.port))].join(', ')}`, findings };
    if (unsure.length > 0)
      return { verdict: 'inconclusive', rationale: `no weakness seen, but not everything could be tested: ${unsure.join('; ')}`, findings };
    const summary = services.map((s) => `${s.port} (${TLS_VERSIONS.filter((v) => s.versions[v].accepted).join('+')})`).join(', ');
    return {
      verdict: 'pass',
      rationale: `TLS 1.2+ only with strong suites and a sound, valid certificate on ${summary}`,
      findings,
      basis: basis(['tls', TlsServiceFact]),
    };
  },
};

type Certificate = NonNullable<ReturnType<typeof TlsServiceFact.schema.parse>['certificate']>;

/** What is wrong with one certificate a port presents; `kind` names it where the port presents more than one. */
function certificateFindings(port: number, c: Certificate, kind: string, when: number, host: string): Finding[] {
  const at = { port, protocol: 'tls' };
  const name = `TLS ${port} certificate${kind}`;
  const out: Finding[] = [];
  const min = MIN_BITS[c.keyType];
  if (c.keyType === 'dsa') out.push({ ...at, severity: 'high', message: `${name} key is DSA` });
  else if (min && c.keyBits !== undefined && c.keyBits < min)
    out.push({ ...at, severity: 'high', message: `${name} key is ${c.keyType.toUpperCase()} ${c.keyBits} bit (minimum ${min})` });
  if (/sha1|md5|md2/i.test(c.signatureAlgorithm)) out.push({ ...at, severity: 'high', message: `${name} is signed with ${c.signatureAlgorithm}` });
  if (Date.parse(c.notAfter) < when) out.push({ ...at, severity: 'high', message: `${name} expired on ${c.notAfter.slice(0, 10)}` });
  if (Date.parse(c.notBefore) > when) out.push({ ...at, severity: 'high', message: `${name} is not valid before ${c.notBefore.slice(0, 10)}` });
  // A device on a LAN usually cannot get a publicly trusted certificate: informational.
  if (c.selfSigned) out.push({ ...at, severity: 'info', message: `${name} is self-signed (${c.subject})` });
  if (!c.matchesTarget) out.push({ ...at, severity: 'info', message: `${name} does not name ${host}` });
  return out;
}
