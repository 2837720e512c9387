/**
 * tls: for every port that speaks TLS, which protocol versions and cipher
 * suites it accepts (hand-built ClientHellos: one handshake per accepted
 * suite, plus one) and the certificate it presents.
 */
import tls from 'node:tls';
import { z } from 'zod';
import { defineFact } from '../../harness/facts';
import type { Observation, Probe, ProbeContext } from '../../harness/types';
import { ConnectError } from '../../harness/connector';
import { openPorts } from '../ports';
import { certificateFacts, type CertificateFacts } from './certificate';
import { askHello, clientHello, TLS_VERSIONS, type TlsVersion } from './hello';
import { suiteName, suitesFor, weakness } from './suites';

const HELLO_TIMEOUT_MS = 4000;
const TLS_PROTOCOLS = new Set(['https', 'mqtts', 'ftps', 'tls', 'coaps']);

const versionResult = z.object({ accepted: z.boolean().nullable(), suites: z.array(z.string()), error: z.string().optional() });
/** accepted: true (a ServerHello for it), false (refused), null (could not tell: see error). */
export type VersionResult = z.infer<typeof versionResult>;

const certificateSchema = z.object({
  subject: z.string(),
  issuer: z.string(),
  keyType: z.string(),
  keyBits: z.number().optional(),
  curve: z.string().optional(),
  signatureAlgorithm: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  selfSigned: z.boolean(),
  matchesTarget: z.boolean(),
  sha256: z.string(),
  keySha256: z.string().optional(),
});

/** One TLS service: each protocol version asked, weak suites accepted, the certificate. */
export const TlsServiceFact = defineFact(
  'tls-service',
  z.object({
    port: z.number().int(),
    versions: z.object(Object.fromEntries(TLS_VERSIONS.map((v) => [v, versionResult])) as Record<TlsVersion, typeof versionResult>),
    weakSuites: z.array(z.object({ version: z.enum(TLS_VERSIONS), suite: z.string(), why: z.string() })),
    certificate: certificateSchema.optional(),
    certificateError: z.string().optional(),
    /** Certificates of another kind the same port presents to clients that ask for it (a server with an RSA and an ECDSA certificate). */
    otherCertificates: z.array(certificateSchema).optional(),
    /** A certificate the accepted suites say exists but no handshake could read. */
    certificateGaps: z.array(z.string()).optional(),
    handshakes: z.number().int(),
    /** Why the port was asked: declared, or what the scan identified. */
    source: z.string().optional(),
  }),
  (s) => {
    const unsure = TLS_VERSIONS.filter((v) => s.versions[v].accepted === null);
    if (unsure.length) return `TLS ${s.port}: ${unsure.join(', ')} could not be told (${s.versions[unsure[0]].error ?? 'no answer'})`;
    // Accepted, but the suites were not all enumerated: a weak one may be among those not asked.
    const partial = TLS_VERSIONS.filter((v) => s.versions[v].accepted === true && s.versions[v].error);
    if (partial.length) return `TLS ${s.port}: the ${partial.join(', ')} suites were not all enumerated (${s.versions[partial[0]].error})`;
    if (!TLS_VERSIONS.some((v) => s.versions[v].accepted)) return `TLS ${s.port}: no version answered`;
    if (s.certificateGaps?.length) return `TLS ${s.port}: ${s.certificateGaps.join('; ')}`;
    return s.certificate ? null : `TLS ${s.port}: no certificate read (${s.certificateError ?? 'unknown'})`;
  },
);

export type TlsServiceFacts = Omit<z.infer<typeof TlsServiceFact.schema>, 'certificate' | 'otherCertificates' | 'source'> & {
  certificate?: CertificateFacts;
  otherCertificates?: CertificateFacts[];
};

export function tlsPorts(ctx: ProbeContext): Array<{ port: number; source: string }> {
  const out = new Map<number, string>();
  for (const s of ctx.device.services) if (s.transport === 'tcp' && TLS_PROTOCOLS.has(s.protocol)) out.set(s.port, `declared ${s.protocol}`);
  for (const r of openPorts(ctx)) if (r.service === 'tls' && !out.has(r.port)) out.set(r.port, `discovered (${r.identifiedBy})`);
  return [...out].map(([port, source]) => ({ port, source })).sort((a, b) => a.port - b.port);
}

/** Fatal alerts that mean "not this version / not these suites" (RFC 8446 §6.2, RFC 5246 §7.2.2). */
const REFUSALS = new Set([
  40 /* handshake_failure */, 47 /* illegal_parameter */, 50 /* decode_error */, 70 /* protocol_version */, 71 /* insufficient_security */,
  86 /* inappropriate_fallback */, 109 /* missing_extension */, 110 /* unsupported_extension */,
]);
function isRefusal(a: { level: number; description: number }): boolean {
  return a.level === 2 && REFUSALS.has(a.description);
}

/** Accepted suites of one version, by elimination; the codes come back with the result. */
async function enumerate(ctx: ProbeContext, port: number, version: TlsVersion, count: () => void): Promise<{ result: VersionResult; codes: number[] }> {
  let offered = suitesFor(version);
  const codes: number[] = [];
  // What was learnt before something went wrong: accepted if a suite already was, unknown otherwise.
  const stopped = (error: string) => ({ result: { accepted: codes.length ? true : null, suites: codes.map(suiteName), error }, codes });
  // Bounded: each round removes the suite the server chose (the bound is fixed at the start, not the shrinking list).
  const rounds = offered.length + 1;
  let refused = false;
  for (let round = 0; round <= rounds && offered.length > 0; round++) {
    let sock;
    try {
      sock = await ctx.connector.tcp(port, { signal: ctx.signal });
    } catch (err) {
      if (err instanceof ConnectError && err.kind === 'aborted') throw err;
      return stopped((err as Error).message);
    }
    count();
    const answer = await askHello(sock, clientHello(version, offered, ctx.scope.host), HELLO_TIMEOUT_MS);
    if (answer.kind === 'server-hello' && answer.version === version && offered.includes(answer.suite)) {
      codes.push(answer.suite);
      offered = offered.filter((c) => c !== answer.suite);
      continue;
    }
    // The version asked was negotiated, with a suite that was not offered: the server speaks it, but what it accepts is not known.
    if (answer.kind === 'server-hello' && answer.version === version)
      return {
        result: {
          accepted: true,
          suites: codes.map(suiteName),
          error: `a ${version} ServerHello chose suite 0x${answer.suite.toString(16).padStart(4, '0')}, which was not offered`,
        },
        codes,
      };
    // A warning, or a fatal alert that is not a refusal (internal_error, close_notify…): not a refusal either.
    if (answer.kind === 'alert' && !isRefusal(answer))
      return stopped(`the server answered a ${version} ClientHello with alert ${answer.level}/${answer.description}, which is not a refusal`);
    if (answer.kind === 'timeout') return stopped(`no answer to a ${version} ClientHello within ${HELLO_TIMEOUT_MS} ms`);
    if (answer.kind === 'not-tls') return stopped(`not TLS (first bytes ${answer.firstBytes})`);
    // A close without an alert is what a crash, a connection limit or a reset looks like too: not a refusal.
    if (answer.kind === 'closed')
      return stopped(
        codes.length
          ? `the connection was closed without a TLS alert after ${codes.length} suite(s) were found: the rest of the ${version} suites are not known`
          : `the connection was closed without a TLS alert: a refusal of ${version} cannot be told from a failure`,
      );
    // A refusing alert, or a ServerHello for another version: this version (or the suites still offered) is refused.
    refused = true;
    break;
  }
  if (!refused && offered.length > 0) return stopped(`the suite enumeration stopped after ${rounds} rounds with ${offered.length} suite(s) not asked`);
  return { result: { accepted: codes.length > 0, suites: codes.map(suiteName) }, codes };
}

/** Handshakes that make a server with a certificate of each kind show each (OpenSSL picks one by the client's suites and signature algorithms). */
const CERT_FAMILIES = [
  {
    name: 'RSA',
    ciphers: 'aRSA:@SECLEVEL=0',
    sigalgs: 'RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:RSA+SHA256:RSA+SHA384:RSA+SHA512:RSA+SHA1',
    marker: /_RSA_/,
  },
  { name: 'ECDSA', ciphers: 'aECDSA:@SECLEVEL=0', sigalgs: 'ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512:ECDSA+SHA1', marker: /_ECDSA_/ },
] as const;

function fetchCertificate(ctx: ProbeContext, port: number, family?: (typeof CERT_FAMILIES)[number]): Promise<Buffer> {
  return ctx.connector.tcp(port, { signal: ctx.signal }).then(
    (raw) =>
      new Promise<Buffer>((resolve, reject) => {
        const s = tls.connect({
          socket: raw,
          rejectUnauthorized: false,
          // Accept whatever the device offers: we are here to read its certificate, not to trust it.
          minVersion: 'TLSv1',
          ciphers: family?.ciphers ?? 'ALL:@SECLEVEL=0',
          // The curves the hand-built hellos offer (P-224 included): a certificate on a weak curve must not hide behind a refused handshake.
          ecdhCurve: 'X25519:P-256:P-384:P-521:P-224',
          ...(family ? { sigalgs: family.sigalgs } : {}),
          servername: ctx.scope.host.match(/[a-z]/i) && !ctx.scope.host.includes(':') ? ctx.scope.host : undefined,
        });
        const timer = setTimeout(() => {
          s.destroy();
          reject(new Error(`TLS handshake on ${port} did not finish within ${HELLO_TIMEOUT_MS} ms`));
        }, HELLO_TIMEOUT_MS);
        s.once('secureConnect', () => {
          clearTimeout(timer);
          const cert = s.getPeerX509Certificate();
          s.destroy();
          raw.destroy();
          if (cert) resolve(cert.raw);
          else reject(new Error('the server sent no certificate'));
        });
        s.once('error', (err) => {
          clearTimeout(timer);
          raw.destroy();
          reject(err);
        });
      }),
  );
}

export async function probeTlsService(ctx: ProbeContext, port: number): Promise<TlsServiceFacts> {
  let handshakes = 0;
  const versions = {} as Record<TlsVersion, VersionResult>;
  const weakSuites: TlsServiceFacts['weakSuites'] = [];
  for (const v of TLS_VERSIONS) {
    const { result, codes } = await enumerate(ctx, port, v, () => (handshakes += 1));
    versions[v] = result;
    for (const code of codes) {
      const why = weakness(code);
      if (why) weakSuites.push({ version: v, suite: suiteName(code), why });
    }
  }
  const facts: TlsServiceFacts = { port, versions, weakSuites, handshakes };
  try {
    facts.certificate = certificateFacts(await fetchCertificate(ctx, port), ctx.scope.host);
    facts.handshakes += 1;
  } catch (err) {
    facts.certificateError = (err as Error).message;
  }
  // A server may hold a certificate of each kind and hand the weaker to the clients that ask for it.
  const seen = new Set(facts.certificate ? [facts.certificate.sha256] : []);
  const suites = TLS_VERSIONS.flatMap((v) => versions[v].suites);
  for (const family of CERT_FAMILIES) {
    try {
      const other = certificateFacts(await fetchCertificate(ctx, port, family), ctx.scope.host);
      facts.handshakes += 1;
      if (!seen.has(other.sha256)) {
        seen.add(other.sha256);
        (facts.otherCertificates ??= []).push(other);
      }
    } catch (err) {
      // Where the accepted suites say a certificate of this kind exists, a handshake that could not read it is a gap,
      // whatever the reason (a curve or signature this client lacks); where none says so, a refusal means there is none.
      if (suites.some((x) => family.marker.test(x)))
        facts.certificateGaps = [...(facts.certificateGaps ?? []), `the ${family.name} certificate could not be read (${(err as Error).message})`];
    }
  }
  return facts;
}

export const tlsProbe: Probe = {
  id: 'tls',
  title: 'TLS protocol versions, cipher suites and certificates',
  needs: ['host'],
  facts: [TlsServiceFact],
  dependsOn: ['tcp-ports'],
  clauses: ['EN 303 645 5.5-1', 'EN 303 645 5.5-7', 'TS 103 701 5.5-1-2'],
  async run(ctx) {
    const ports = tlsPorts(ctx);
    ctx.progress(`TLS on ${ports.map((p) => p.port).join(', ') || 'no port'}`);
    const observations: Observation[] = [];
    // Ports side by side; each port's handshakes one after another (the connector caps the total).
    const facts = await Promise.all(ports.map((p) => probeTlsService(ctx, p.port)));
    facts.forEach((f, i) => {
      const on = TLS_VERSIONS.filter((v) => f.versions[v].accepted);
      observations.push({
        kind: 'tls-service',
        port: f.port,
        protocol: 'tls',
        summary: `TLS ${f.port}: ${on.join(', ') || 'no version accepted'}; ${f.weakSuites.length} weak suite(s); ${f.certificate ? `${f.certificate.keyType.toUpperCase()} ${f.certificate.keyBits ?? '?'} bit, ${f.certificate.signatureAlgorithm}, valid to ${f.certificate.notAfter.slice(0, 10)}` : `certificate: ${f.certificateError}`}`,
        data: { ...f, source: ports[i].source },
      });
    });
    return { observations };
  },
};
