/**
 * What the device sends on its own, from the traffic probe's capture:
 * comms.outbound-plaintext, comms.outbound-tls, comms.certificate-validation
 * (the opt-in MITM test) and privacy.destinations. Every one needs the
 * capture's control — the bench's own connection to the device seen in the
 * same capture — and a device that opened nothing during the watch is
 * inconclusive: silence in a window is not evidence of anything.
 */
import { basis, factsOf, whyNotObserved } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, CheckJudgement, Finding, JudgeInput, ProbeResult } from '../../harness/types';
import { TrafficCaptureFact, TrafficDestinationFact, TrafficMitmFact } from '../../probes/traffic';
import { destinationLabel, isDeclared, type TrafficCapture, type TrafficDestination } from '../../harness/traffic';
import { updateIntegrityCheck } from './update';
import { MIN_NEEDLE, VERSION_RANK } from '../../probes/traffic/dissect';
import { SUITES } from '../../probes/tls/suites';

/** Protocols that are clear by design and carry names, not user data. */
const INFRASTRUCTURE = new Set(['dns', 'mdns', 'llmnr', 'nbns', 'ntp', 'dhcp', 'dhcpv6', 'ssdp', 'arp', 'icmp', 'icmpv6', 'igmp']);
const ENCRYPTED = new Set(['tls', 'ssh', 'quic', 'dtls', 'wireguard', 'esp', 'isakmp']);

interface Watch {
  result: ProbeResult;
  capture: TrafficCapture;
  /** What the device contacted during the watch. */
  destinations: TrafficDestination[];
  /** …and during the MITM test too (where a device that loses its TLS may fall back to clear text). */
  everything: TrafficDestination[];
}

/** The watch capture and its destinations, or the judgement when they cannot carry one. */
function watched(input: JudgeInput): { ok: true; w: Watch } | { ok: false; judgement: CheckJudgement } {
  const g = gate(input, 'traffic');
  if (!g.ok) return g;
  const capture = factsOf(g.result, TrafficCaptureFact).find((c) => c.phase === 'watch');
  if (!capture) return { ok: false, judgement: { verdict: 'inconclusive', rationale: 'the traffic probe recorded no capture', findings: [] } };
  const why = whyNotObserved(TrafficCaptureFact, capture);
  if (why) return { ok: false, judgement: { verdict: 'inconclusive', rationale: why, findings: [] } };
  const everything = factsOf(g.result, TrafficDestinationFact);
  return { ok: true, w: { result: g.result, capture, destinations: everything.filter((d) => d.phase === 'watch'), everything } };
}

const silent = (c: TrafficCapture): CheckJudgement => ({
  verdict: 'inconclusive',
  rationale: `the device opened no connection of its own during the ${c.seconds} s watch on ${c.interface} (the bench's own connection was seen, so the capture worked): a silent window shows nothing about what it sends; lengthen traffic.seconds or provoke it (traffic.provoke)`,
  findings: [],
});

const where = (c: TrafficCapture): string => `capture ${c.pcap ?? ''}`.trim();
/** Encrypted: a TLS ClientHello, an SSH key exchange begun, or a protocol tshark names as encrypted (QUIC, DTLS, IPsec…). */
const isClear = (d: TrafficDestination): boolean => !d.tls && !(d.protocol === 'ssh' ? d.sshKex : ENCRYPTED.has(d.protocol));

export const outboundPlaintextCheck: Check = {
  id: 'comms.outbound-plaintext',
  title: 'The device sends no credentials, tokens or personal data in clear',
  failsWhen: 'credentials, tokens or personal data sent in clear, or firmware fetched over plain HTTP by a device that installs unsigned images',
  probes: ['traffic'],
  alsoReads: ['update'],
  implemented: true,
  fix: 'Send everything the device exchanges with its cloud and services over TLS 1.2+ with certificate validation; fetch firmware over HTTPS and verify its signature before installing.',
  judge(input) {
    const r = watched(input);
    if (!r.ok) return r.judgement;
    const { capture } = r.w;
    const destinations = r.w.everything;
    const findings: Finding[] = [];
    const clear = destinations.flatMap((d) => d.clear.map((c) => ({ d, c })));
    for (const { d, c } of clear)
      findings.push({
        severity: 'high',
        message: `${c.kind} ${c.name} sent in clear to ${destinationLabel(d)} (${c.how}; frame ${c.frame ?? d.firstFrame} of ${d.phase === 'mitm' ? 'the MITM capture, while its TLS was answered by the bench' : where(capture)})`,
        port: d.port,
        protocol: d.protocol,
      });
    const firmware = destinations.filter((d) => isClear(d) && d.firmware.length);
    let firmwareFails = false;
    let firmwareUnknown = false;
    if (firmware.length) {
      const integrity = input.result('update') ? updateIntegrityCheck.judge(input).verdict : 'not-tested';
      for (const d of firmware) {
        const fetch = `firmware fetched over plain HTTP from ${destinationLabel(d)}: ${d.firmware
          .slice(0, 3)
          .map((f) => `${f.uri} (frame ${f.frame})`)
          .join(', ')}`;
        if (integrity === 'fail') {
          firmwareFails = true;
          findings.push({
            severity: 'high',
            message: `${fetch}; and the device installs a tampered or unsigned image (update.integrity fails): anyone on the path can replace it`,
          });
        } else if (integrity === 'pass')
          findings.push({ severity: 'low', message: `${fetch}; the device refuses tampered images (update.integrity passes), so the signature protects it` });
        else {
          firmwareUnknown = true;
          findings.push({ severity: 'medium', message: `${fetch}; whether the device checks the signature is not known (update.integrity: ${integrity})` });
        }
      }
    }
    if (clear.length || firmwareFails)
      return {
        verdict: 'fail',
        rationale: `the device sent ${[...new Set(clear.map(({ c }) => `${c.kind} ${c.name}`))].join(', ') || 'its firmware request'} in clear${firmwareFails ? ', and fetches firmware over plain HTTP without checking it' : ''} (${where(capture)})`,
        findings,
      };
    if (capture.deviceFlows === 0) return silent(capture);
    const sent = destinations.reduce((n, d) => n + d.payloadBytes, 0);
    if (sent === 0)
      return {
        verdict: 'inconclusive',
        rationale: `the device opened ${capture.deviceFlows} connection(s) in the window but sent no data on them that the capture saw: nothing to search`,
        findings,
      };
    // Only what crossed in clear matters here: a malformed packet in a TLS flow hides nothing readable.
    const unread = destinations.filter((d) => isClear(d) && (d.opaque.length || d.partial));
    for (const d of unread)
      findings.push({
        severity: 'medium',
        message: `${destinationLabel(d)}: not all of it could be read — ${[...d.opaque, ...(d.partial ? [d.partial] : [])].join('; ')}`,
      });
    if (unread.length)
      return {
        verdict: 'inconclusive',
        rationale: `what the device sent in clear to ${unread.map(destinationLabel).join('; ')} could not all be read for canaries and secrets (compressed, masked, cut or more than was kept): nothing found is not nothing sent`,
        findings,
      };
    if (firmwareUnknown)
      return {
        verdict: 'inconclusive',
        rationale: 'the device fetches firmware over plain HTTP and the update check did not say whether it verifies the image',
        findings,
      };
    if (capture.truncated)
      return {
        verdict: 'inconclusive',
        rationale: `the capture stopped at its size bound (traffic.maxMegabytes ${input.device.traffic?.maxMegabytes ?? '?'}): what came after was not searched`,
        findings,
      };
    const values = [...Object.entries(input.device.personalData?.canaries ?? {}), ...Object.entries(input.device.traffic?.secrets ?? {})];
    const short = values.filter(([, v]) => v.length < MIN_NEEDLE).map(([k]) => k);
    const needles = values.length - short.length;
    if (short.length)
      findings.push({ severity: 'info', message: `not searched, shorter than ${MIN_NEEDLE} characters (they would match by chance): ${short.join(', ')}` });
    const clearBytes = destinations.filter((d) => isClear(d) && !INFRASTRUCTURE.has(d.protocol) && d.payloadBytes > 0);
    for (const d of clearBytes) findings.push({ severity: 'info', message: `${d.payloadBytes} byte(s) of ${d.protocol} in clear to ${destinationLabel(d)}` });
    if (clearBytes.length && needles === 0)
      return {
        verdict: 'inconclusive',
        rationale: `the device sent ${clearBytes.length} unencrypted exchange(s) and nothing was enrolled to look for in them (no personalData.canaries or traffic.secrets of ${MIN_NEEDLE}+ characters): enrol canaries to decide`,
        findings,
      };
    const encrypted = destinations.filter((d) => !isClear(d)).length;
    return {
      verdict: 'pass',
      rationale: `${capture.deviceFlows} connection(s) the device opened in ${capture.seconds} s to ${destinations.length} destination(s) (${encrypted} encrypted): no credential, token${needles ? `, secret or enrolled canary (${needles} looked for)` : ''} in clear`,
      findings,
      basis: basis(['traffic', TrafficCaptureFact], ['traffic', TrafficDestinationFact]),
    };
  },
};

/** Cipher suites that are suites (not GREASE, not a signalling value such as TLS_EMPTY_RENEGOTIATION_INFO_SCSV). */
const KNOWN_SUITES = new Set(SUITES.filter((x) => !/SCSV/.test(x.name)).map((x) => x.code));

/** Weak for a server to accept, but only noted when a client offers it among stronger suites. */
const SOFT = new Set(['CBC with SHA-1']);

export const outboundTlsCheck: Check = {
  id: 'comms.outbound-tls',
  title: "The device's own TLS client offers only TLS 1.2+ and strong suites",
  failsWhen: "the device's TLS client offers a version below TLS 1.2 or a weak cipher suite",
  probes: ['traffic'],
  implemented: true,
  fix: "Configure the device's TLS client for TLS 1.2 and 1.3 only, with AEAD suites (no RC4, 3DES, NULL, EXPORT, anonymous or CBC-SHA1 suites).",
  judge(input) {
    const r = watched(input);
    if (!r.ok) return r.judgement;
    const { capture, destinations } = r.w;
    const tlsDests = destinations.filter((d) => d.tls);
    if (capture.deviceFlows === 0) return silent(capture);
    const unparsed = destinations.filter((d) => d.tlsUnparsed);
    if (tlsDests.length === 0 && unparsed.length === 0)
      return {
        verdict: 'inconclusive',
        rationale: `the device opened ${capture.deviceFlows} connection(s) in ${capture.seconds} s, none of them TLS: its TLS client (if it has one) was not seen`,
        findings: [],
      };
    const findings: Finding[] = [];
    for (const d of tlsDests) {
      const t = d.tls!;
      const old = t.versions.filter((v) => VERSION_RANK.indexOf(v) >= 0 && VERSION_RANK.indexOf(v) < VERSION_RANK.indexOf('TLSv1.2'));
      if (old.length || (t.maxOffered && VERSION_RANK.indexOf(t.maxOffered) < VERSION_RANK.indexOf('TLSv1.2')))
        findings.push({
          severity: 'high',
          message: `offers ${old.join(', ') || t.maxOffered} to ${destinationLabel(d)} (ClientHello frame ${t.frames[0]})`,
          port: d.port,
          protocol: 'tls',
        });
      // A client that offers CBC-SHA1 after AEAD suites (OpenSSL's default list) leaves the choice to the server: noted, not failed.
      // Soft only beside at least one suite that is not weak at all: a client offering nothing better fails on it.
      // A real suite, that is: GREASE values and signalling pseudo-suites (SCSV) are not an alternative.
      const strongOffered = t.suites.some((c) => KNOWN_SUITES.has(c) && !t.weakSuites.some((w) => w.code === c));
      const broken = t.weakSuites.filter((s) => !SOFT.has(s.why) || !strongOffered);
      const soft = t.weakSuites.filter((s) => SOFT.has(s.why) && strongOffered);
      const list = (xs: typeof t.weakSuites): string =>
        `${xs
          .slice(0, 6)
          .map((s) => `${s.name} (${s.why})`)
          .join(', ')}${xs.length > 6 ? ` and ${xs.length - 6} more` : ''}`;
      if (broken.length)
        findings.push({
          severity: 'high',
          message: `offers broken suites to ${destinationLabel(d)}: ${list(broken)} (frame ${t.frames[0]})`,
          port: d.port,
          protocol: 'tls',
        });
      if (soft.length)
        findings.push({
          severity: 'info',
          message: `also offers ${list(soft)} to ${destinationLabel(d)}, after stronger suites`,
          port: d.port,
          protocol: 'tls',
        });
    }
    if (findings.some((f) => f.severity === 'high'))
      return { verdict: 'fail', rationale: `the device's TLS client offers what it should not (${where(capture)})`, findings };
    if (unparsed.length)
      return {
        verdict: 'inconclusive',
        rationale: `the device sent what looks like a TLS handshake that tshark did not dissect to ${unparsed.map(destinationLabel).join('; ')}: what it offered there is unknown`,
        findings,
      };
    if (capture.truncated)
      return {
        verdict: 'inconclusive',
        rationale: 'the capture stopped at its size bound (traffic.maxMegabytes): a ClientHello after it was not seen',
        findings,
      };
    return {
      verdict: 'pass',
      rationale: `${tlsDests.length} TLS destination(s): the device offers ${[...new Set(tlsDests.flatMap((d) => d.tls!.versions))].join(', ')} and no weak suite (${tlsDests
        .map((d) => `${destinationLabel(d)}: ${d.tls!.suites.length} suites`)
        .join('; ')})`,
      findings: [...findings, ...tlsDests.map((d) => ({ severity: 'info' as const, message: `${destinationLabel(d)}: JA3 ${d.tls!.ja3.join(', ') || '-'}` }))],
      basis: basis(['traffic', TrafficCaptureFact], ['traffic', TrafficDestinationFact]),
    };
  },
};

export const certificateValidationCheck: Check = {
  id: 'comms.certificate-validation',
  title: 'The device refuses a server certificate it cannot trust (man-in-the-middle test)',
  failsWhen: 'the device completes a TLS handshake with a certificate from an untrusted CA (and sends data over it)',
  probes: ['traffic'],
  implemented: true,
  fix: "Validate the server's certificate chain against the vendor's trust anchors and check the host name on every TLS connection the device opens; never ship with verification off.",
  judge(input) {
    const t = input.device.traffic;
    if (t && !t.mitm)
      return {
        verdict: 'not-tested',
        rationale: "the MITM test is opt-in (traffic.mitm: true): it breaks the device's cloud link while it runs",
        findings: [],
      };
    const r = watched(input);
    if (!r.ok) return r.judgement;
    const m = factsOf(r.w.result, TrafficMitmFact)[0];
    if (!m) return { verdict: 'inconclusive', rationale: 'the traffic probe recorded no MITM test', findings: [] };
    const findings: Finding[] = [];
    if (!m.removed)
      findings.push({ severity: 'high', message: `the redirect rules were not removed from this bench: ${m.rules.join('; ')} (nft delete table ip <table>)` });
    if (m.missingPackage) return { verdict: 'not-tested', rationale: m.error ?? `${m.missingPackage} is not installed`, findings };
    if (m.error) return { verdict: 'inconclusive', rationale: m.error, findings };
    for (const a of m.attempts)
      findings.push({
        severity: a.outcome === 'application-data' || a.outcome === 'handshake-only' ? 'high' : 'info',
        message: `${a.target}${a.sni ? ` (SNI ${a.sni})` : ''}: ${a.detail}${a.categories.length ? `; personal data in it: ${a.categories.join(', ')}` : ''}`,
      });
    for (const a of m.alertsInCapture.slice(0, 5))
      findings.push({ severity: 'info', message: `TLS alert ${a.alert} from the device in frame ${a.frame} of the MITM capture` });
    const accepted = m.attempts.filter((a) => a.outcome === 'application-data' || a.outcome === 'handshake-only');
    if (accepted.length) {
      const data = accepted.filter((a) => a.outcome === 'application-data');
      return {
        verdict: 'fail',
        rationale: `the device accepted a certificate from an untrusted CA on ${accepted.length} connection(s)${data.length ? ` and sent application data over ${data.length} of them` : ' (handshake completed; the certificate was accepted)'}: anyone on its path can read and change what it sends`,
        findings,
      };
    }
    // Each destination redirected needs an attempt that showed a refusal: an unknown one keeps the verdict open.
    const open = m.targets.filter(
      (tg) => !m.attempts.some((a) => a.target === `${tg.address}:${tg.port}` && (a.outcome === 'alert' || a.outcome === 'closed')),
    );
    if (m.attempts.length === 0 || open.length)
      return {
        verdict: 'inconclusive',
        rationale: `${m.attempts.length === 0 ? 'the device opened no TLS connection to the responder' : `no refusal seen for ${open.map((tg) => `${tg.address}:${tg.port}`).join(', ')}`} during the ${m.seconds} s window`,
        findings,
      };
    const closed = m.attempts.filter((a) => a.outcome === 'closed').length;
    const alerts = m.attempts.filter((a) => a.outcome === 'alert');
    return {
      verdict: 'pass',
      rationale: `the device refused the untrusted certificate on every one of ${m.attempts.length} connection(s) in ${m.seconds} s${alerts.length ? `: ${[...new Set(alerts.map((a) => a.detail))].join(', ')}` : ''}${closed ? `; ${closed} closed without a TLS alert — passing only because it did so on every attempt and never sent application data` : ''}`,
      findings,
      basis: basis(['traffic', TrafficMitmFact]),
    };
  },
};

export const destinationsCheck: Check = {
  id: 'privacy.destinations',
  title: 'The device contacts only the destinations the maker declares',
  failsWhen: 'the device contacts a destination not in traffic.declaredDestinations',
  probes: ['traffic'],
  implemented: true,
  fix: 'Declare every destination the device contacts (cloud, NTP, DNS, analytics) and the personal data each receives, or stop contacting the ones that are not needed.',
  judge(input) {
    const r = watched(input);
    if (!r.ok) return r.judgement;
    const { capture } = r.w;
    const declared = input.device.traffic?.declaredDestinations;
    // One row per destination, the MITM test's included (a fallback server contacted only then is a destination too).
    const byKey = new Map<string, TrafficDestination>();
    for (const d of r.w.everything) if (!byKey.has(`${d.transport}/${d.address}/${d.port}`)) byKey.set(`${d.transport}/${d.address}/${d.port}`, d);
    const remote = [...byKey.values()].filter((d) => !d.local);
    const mitm = factsOf(r.w.result, TrafficMitmFact)[0];
    const categories = (d: TrafficDestination): string[] => [
      ...new Set([
        ...d.clear.filter((c) => c.kind === 'personal-data').map((c) => c.name),
        ...(mitm?.attempts.filter((a) => a.target === `${d.address}:${d.port}`).flatMap((a) => a.categories) ?? []),
      ]),
    ];
    const findings: Finding[] = remote.map((d) => {
      const pd = categories(d);
      return {
        severity: 'info',
        message: `${destinationLabel(d)} ${d.protocol}${pd.length ? `, personal data: ${pd.join(', ')}` : ''}`,
        port: d.port,
        protocol: d.protocol,
      };
    });
    if (capture.deviceFlows === 0 || remote.length === 0) return { ...silent(capture), findings };
    const undeclared = remote.filter((d) => !isDeclared(declared ?? [], d));
    if (undeclared.length)
      return {
        verdict: 'fail',
        rationale: `the device contacted ${undeclared.length} destination(s) the maker does not declare${declared === undefined ? ' (the device file has no traffic.declaredDestinations)' : ''}: ${undeclared
          .map((d) => `${destinationLabel(d)}${categories(d).length ? ` (received ${categories(d).join(', ')})` : ''}`)
          .join('; ')}`,
        findings: [
          ...undeclared.map((d) => ({
            severity: 'high' as const,
            message: `undeclared: ${destinationLabel(d)} ${d.protocol} (first frame ${d.firstFrame} of ${where(capture)})`,
          })),
          ...findings,
        ],
      };
    if (capture.truncated)
      return {
        verdict: 'inconclusive',
        rationale: 'the capture stopped at its size bound (traffic.maxMegabytes): a destination contacted after it was not seen',
        findings,
      };
    return {
      verdict: 'pass',
      rationale: `every one of the ${remote.length} destination(s) the device contacted in ${capture.seconds} s is declared`,
      findings,
      basis: basis(['traffic', TrafficCaptureFact], ['traffic', TrafficDestinationFact]),
    };
  },
};
