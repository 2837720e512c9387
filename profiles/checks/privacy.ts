/**
 * privacy.personal-data-exposure (EN 303 645 5.8-1/5.8-2, 5.5-1: personal
 * data not readable without authentication, nor in clear on the wire),
 * privacy.disclosure (6-1: what the device handles is declared to the user)
 * and privacy.data-deletion (5.11-1: a factory reset erases user data).
 *
 * The canaries are searched in everything the run saw: pages and topics
 * open to anyone (unauthenticated), banners (tcp-ports), discovery answers
 * (udp-services), the serial console, and the lab-credential read-backs
 * (personal-data). No canary seen anywhere — not even with lab credentials —
 * means the search proves nothing: inconclusive, never pass.
 */
import { gate } from '../../harness/gate';
import { factOf, factsOf, type FactKind, basis } from '../../harness/facts';
import type { Check, CheckJudgement, FactRef, Finding, JudgeInput } from '../../harness/types';
import { PersonalDataChannelFact } from '../../probes/personal-data';
import { TcpPortFact } from '../../probes/ports';
import { ResetFact } from '../../probes/reset';
import { sameShape } from '../../probes/util/shape';
import { SerialConsoleFact } from '../../probes/serial';
import { UdpPortFact } from '../../probes/udp';
import { UnauthenticatedFact, UnauthenticatedScanFact } from '../../probes/unauthenticated';
import { TrafficDestinationFact, TrafficMitmFact } from '../../probes/traffic';

/** A place a canary category was seen. */
interface Sighting {
  where: string;
  categories: string[];
  authenticated: boolean;
  clearText: boolean;
}

const CHANNEL_PROBES = ['tcp-ports', 'udp-services', 'serial'];

/** Facts of a probe that completed (a failed probe's observations are not read). */
function completedFacts<T>(input: JudgeInput, probe: string, kind: FactKind<T>): T[] {
  const r = input.result(probe);
  return r?.status === 'completed' ? factsOf(r, kind) : [];
}

function sightings(input: JudgeInput): Sighting[] {
  const out: Sighting[] = [];
  const push = (where: string, categories: string[] | undefined, authenticated: boolean, clearText: boolean): void => {
    if (categories?.length) out.push({ where, categories, authenticated, clearText });
  };
  for (const e of completedFacts(input, 'unauthenticated', UnauthenticatedFact)) push(`${e.where} without credentials`, e.canaries, false, false);
  for (const p of completedFacts(input, 'tcp-ports', TcpPortFact)) push(`TCP ${p.port} banner, to anyone who connects`, p.canaries, false, false);
  for (const u of completedFacts(input, 'udp-services', UdpPortFact)) push(`UDP ${u.port} answer, to anyone on the network`, u.canaries, false, false);
  for (const s of completedFacts(input, 'serial', SerialConsoleFact)) push(`serial console ${s.path} output, without login`, s.canaries, false, false);
  for (const c of completedFacts(input, 'personal-data', PersonalDataChannelFact)) push(c.channel, c.categories, c.authenticated, c.clearText);
  return out;
}

/** Personal data the device itself sent out: in clear in the capture, or read by the MITM responder. */
function outboundSightings(input: JudgeInput): Sighting[] {
  const out: Sighting[] = [];
  for (const d of completedFacts(input, 'traffic', TrafficDestinationFact)) {
    const categories = [...new Set(d.clear.filter((c) => c.kind === 'personal-data').map((c) => c.name))];
    if (categories.length)
      out.push({ where: `sent by the device in clear to ${d.names[0] ?? d.address}:${d.port}`, categories, authenticated: false, clearText: true });
  }
  for (const m of completedFacts(input, 'traffic', TrafficMitmFact))
    for (const a of m.attempts)
      if (a.categories.length)
        out.push({
          where: `sent by the device over TLS to ${a.sni ?? a.target} (read by the MITM responder)`,
          categories: a.categories,
          authenticated: false,
          clearText: false,
        });
  return out;
}

/** The places asked without credentials, when there are any: a pass rests on each having been searched. */
function unauthenticatedBasis(input: JudgeInput): FactRef[] {
  return completedFacts(input, 'unauthenticated', UnauthenticatedFact).length ? basis(['unauthenticated', UnauthenticatedFact]) : [];
}

/** Channel probes that should have searched but did not finish: a pass would be blind there. */
function blindSpots(input: JudgeInput): string[] {
  return CHANNEL_PROBES.flatMap((p) => {
    const r = input.result(p);
    return r && (r.status === 'failed' || r.status === 'timed-out' || r.status === 'cancelled') ? [`${p} ${r.status}${r.reason ? ` (${r.reason})` : ''}`] : [];
  });
}

const categoriesOf = (s: Sighting[]): string[] => [...new Set(s.flatMap((x) => x.categories))];
const NOTHING_SEEN =
  'no canary was seen anywhere, not even with the lab credentials, so a clean search proves nothing: check the enrolment and declare personalData.readBack (where the lab can read the data back)';

export const personalDataExposureCheck: Check = {
  id: 'privacy.personal-data-exposure',
  title: 'No personal data readable without authentication',
  failsWhen: 'a personal-data canary is readable without authentication (network or serial), or crosses the network in clear text',
  probes: ['personal-data', 'unauthenticated'],
  alsoReads: CHANNEL_PROBES,
  implemented: true,
  fix: 'Serve personal data only after authentication and only over encrypted channels (HTTPS, MQTT over TLS); keep it out of banners, discovery answers, status pages and the boot log.',
  judge(input) {
    for (const p of ['personal-data', 'unauthenticated']) {
      const g = gate(input, p);
      if (!g.ok) return g.judgement;
    }
    const seen = sightings(input);
    const findings: Finding[] = [];
    for (const s of seen.filter((x) => !x.authenticated)) findings.push({ severity: 'high', message: `${s.categories.join(', ')} readable on ${s.where}` });
    for (const s of seen.filter((x) => x.authenticated && x.clearText))
      findings.push({ severity: 'high', message: `${s.categories.join(', ')} crosses the network in clear text: ${s.where}` });
    if (findings.length)
      return {
        verdict: 'fail',
        rationale: `personal data (${categoriesOf(seen.filter((x) => !x.authenticated || x.clearText)).join(', ')}) exposed on ${findings.length} channel(s)`,
        findings,
      };
    const blind = blindSpots(input);
    if (blind.length) return { verdict: 'inconclusive', rationale: `no exposure found, but some channels were not searched: ${blind.join('; ')}`, findings };
    if (seen.length === 0) return { verdict: 'inconclusive', rationale: NOTHING_SEEN, findings };
    for (const s of seen)
      findings.push({ severity: 'info', message: `${s.categories.join(', ')} seen only with credentials over an encrypted channel: ${s.where}` });
    const skipped = CHANNEL_PROBES.filter((p) => input.result(p)?.status === 'skipped');
    return {
      verdict: 'pass',
      rationale: `the canaries (${categoriesOf(seen).join(', ')}) show only behind authentication and encryption${skipped.length ? `; not searched (not declared): ${skipped.join(', ')}` : ''}`,
      findings,
      basis: [...basis(['personal-data', PersonalDataChannelFact], ['unauthenticated', UnauthenticatedScanFact]), ...unauthenticatedBasis(input)],
    };
  },
};

export const disclosureCheck: Check = {
  id: 'privacy.disclosure',
  title: 'Personal data handled is declared to the user',
  failsWhen: 'personal data the device is seen handling is not declared to the user',
  probes: ['personal-data'],
  alsoReads: ['unauthenticated', 'traffic', ...CHANNEL_PROBES],
  implemented: true,
  fix: 'Tell the user, in the privacy notice and the device file (personalData.declared), every category of personal data the device processes.',
  judge(input) {
    const pd = input.device.personalData;
    if (!pd)
      return {
        verdict: 'not-tested',
        rationale:
          'the device file says nothing about personal data (no personalData section): declare the categories the user is told about and enrol canaries to test this',
        findings: [],
      };
    const declared = pd.declared;
    if (declared.length === 0) {
      return {
        verdict: 'fail',
        rationale: `the device file declares no personal data at all (personalData.declared is empty), yet ${Object.keys(pd.canaries).length ? `the lab enrolled ${Object.keys(pd.canaries).join(', ')} on it` : 'it has a personalData section'}: the user is told nothing`,
        findings: [{ severity: 'high', message: 'personalData.declared is empty' }],
      };
    }
    const g = gate(input, 'personal-data');
    if (!g.ok) return g.judgement;
    const seen = [...sightings(input), ...outboundSightings(input)];
    const undeclared = categoriesOf(seen).filter((c) => !declared.includes(c));
    if (undeclared.length) {
      return {
        verdict: 'fail',
        rationale: `the device handles ${undeclared.join(', ')}, which the user is not told about (declared: ${declared.join(', ')})`,
        findings: undeclared.map((c) => ({
          severity: 'high' as const,
          message: `${c} seen on ${seen
            .filter((s) => s.categories.includes(c))
            .map((s) => s.where)
            .join('; ')} but not declared`,
        })),
      };
    }
    if (seen.length === 0) return { verdict: 'inconclusive', rationale: NOTHING_SEEN, findings: [] };
    return {
      verdict: 'pass',
      rationale: `every category seen (${categoriesOf(seen).join(', ')}) is declared (${declared.join(', ')})`,
      findings: [],
      basis: [...basis(['personal-data', PersonalDataChannelFact]), ...unauthenticatedBasis(input)],
    };
  },
};

export const dataDeletionCheck: Check = {
  id: 'privacy.data-deletion',
  title: 'Factory reset deletes user data',
  failsWhen: 'a canary survives a factory reset',
  probes: ['reset'],
  implemented: true,
  fix: 'Make the factory reset erase every user data store (settings, profiles, retained broker messages, logs), not only the configuration.',
  judge(input): CheckJudgement {
    const g = gate(input, 'reset');
    if (!g.ok) return g.judgement;
    const f = factOf(g.result, ResetFact);
    if (!f) return { verdict: 'inconclusive', rationale: 'the reset probe recorded nothing', findings: [] };
    if (f.notAttempted) return { verdict: 'inconclusive', rationale: f.notAttempted, findings: [] };
    const before = f.before.filter((c) => c.categories.length);
    if (before.length === 0)
      return { verdict: 'inconclusive', rationale: 'no canary was seen before the reset, so nothing after it can show deletion', findings: [] };
    const findings: Finding[] = before.map((c) => ({ severity: 'info', message: `before the reset: ${c.categories.join(', ')} on ${c.channel}` }));
    // A reset that was refused or never answered proves nothing either way, even if the data is still there.
    if (!f.reset?.ok)
      return {
        verdict: 'inconclusive',
        rationale: `the reset action did not succeed (${f.reset?.error ?? `status ${f.reset?.status}`}), so the data still being there or not says nothing`,
        findings,
      };
    // Decided here, from the channels read before and after: not taken from the probe.
    const seenBefore = new Set(f.before.flatMap((c) => c.categories));
    const survived = [...new Set(f.after.flatMap((c) => c.categories))].filter((c) => seenBefore.has(c));
    if (survived.length) {
      const where = f.after.filter((c) => c.categories.length);
      return {
        verdict: 'fail',
        rationale: `${survived.join(', ')} survived the factory reset`,
        findings: [
          ...where.map((c) => ({ severity: 'high' as const, message: `after the reset: ${c.categories.join(', ')} still on ${c.channel}` })),
          ...findings,
        ],
      };
    }
    if (!f.return?.returned)
      return {
        verdict: 'inconclusive',
        rationale: `the device did not come back within ${Math.round((f.return?.afterMs ?? 0) / 1000)} s after the reset`,
        findings,
      };
    // A channel that showed data before and cannot be read after proves nothing.
    const unread = before.filter((b) => !f.after.find((a) => a.channel === b.channel)?.ok);
    if (unread.length)
      return {
        verdict: 'inconclusive',
        rationale: `after the reset these channels could not be read, so deletion is not shown: ${unread.map((c) => c.channel).join('; ')}`,
        findings,
      };
    // A read-back cut at the size kept was searched only in part: the data may sit past the cut.
    const cut = f.after.filter((a) => a.action?.truncated && before.some((b) => b.channel === a.channel));
    if (cut.length)
      return {
        verdict: 'inconclusive',
        rationale: `after the reset these read-backs were longer than what is kept and were searched only in part: ${cut.map((c) => c.channel).join('; ')}`,
        findings,
      };
    // The control for "gone": the same page came back, empty — not a setup wizard, a login page or an error that answers 200.
    const shapes = before.map((b) => {
      const a = f.after.find((x) => x.channel === b.channel)!;
      return {
        channel: b.channel,
        cmp:
          b.shape && a.shape
            ? sameShape(b.shape, a.shape)
            : { same: false, detail: 'no shape of the answer was recorded, so it cannot be shown to be the same page' },
      };
    });
    const changed = shapes.filter((s) => !s.cmp.same);
    if (changed.length)
      return {
        verdict: 'inconclusive',
        rationale: `after the reset the read-back no longer looks like the data page, so the data being absent shows nothing: ${changed.map((s) => `${s.channel}: ${s.cmp.detail}`).join('; ')}`,
        findings,
      };
    for (const s of shapes) findings.push({ severity: 'info', message: `after the reset: ${s.channel}: ${s.cmp.detail}` });
    return {
      verdict: 'pass',
      rationale: `${[...new Set(before.flatMap((c) => c.categories))].join(', ')} seen before the reset, none after on the same ${before.length} channel(s), each the same page as before`,
      findings,
      basis: basis(['reset', ResetFact]),
    };
  },
};
