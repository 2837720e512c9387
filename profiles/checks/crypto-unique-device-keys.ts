/**
 * crypto.unique-device-keys — EN 18031 CCK-3: preinstalled keys are not shared
 * between units. A run sees one unit only (the scope rule stays one target), so
 * the comparison is between saved runs: `starbench report RUN --compare-keys
 * OTHER_RUN` gives this unit's run the other units' key fingerprints (SSH host
 * keys, TLS public keys). The same key on two units fails. Without another
 * unit's run the check is not-tested; with one whose run recorded no key, or
 * with this unit's own keys unread, it is inconclusive: an empty comparison
 * shows nothing.
 */
import { basis, type FactKind } from '../../harness/facts';
import { gate } from '../../harness/gate';
import type { Check, CheckJudgement, Finding, JudgeInput, ProbeResult, UnitKeys } from '../../harness/types';
import { worst } from '../../harness/verdict';
import { SshServiceFact } from '../../probes/ssh';
import { TlsServiceFact } from '../../probes/tls';
import { noServiceJudgement } from './discovery';

export type DeviceKey = UnitKeys['keys'][number];

/** Every fact of one kind in a result that completed; an observation that does not parse is left out, never a crash. */
function completedFacts<T>(r: ProbeResult | undefined, kind: FactKind<T>): T[] {
  if (r?.status !== 'completed') return [];
  return r.observations
    .filter((o) => o.kind === kind.kind)
    .flatMap((o) => {
      const p = kind.schema.safeParse(o.data);
      return p.success ? [p.data] : [];
    });
}

/**
 * The key fingerprints a run recorded: each SSH host key and each TLS certificate's public key, with where it was
 * seen and its kind (the SSH key type, the TLS key type), from probes that completed.
 */
export function deviceKeys(result: (probe: string) => ProbeResult | undefined): DeviceKey[] {
  const out: DeviceKey[] = [];
  for (const s of completedFacts(result('ssh'), SshServiceFact))
    for (const k of s.hostKeys)
      if (k.sha256) out.push({ where: `SSH ${s.port} ${k.type ?? k.algorithm} host key`, kind: `SSH ${k.type ?? k.algorithm}`, sha256: k.sha256 });
  for (const t of completedFacts(result('tls'), TlsServiceFact))
    for (const c of [t.certificate, ...(t.otherCertificates ?? [])])
      if (c?.keySha256)
        out.push({ where: `TLS ${t.port} ${c.keyType}${c.keyBits ? ` ${c.keyBits}` : ''} certificate key`, kind: `TLS ${c.keyType}`, sha256: c.keySha256 });
  return out;
}

/** The probes of a run whose keys were not all read (not run, failed, timed out). */
export function unreadKeyProbes(result: (probe: string) => ProbeResult | undefined): string[] {
  return ['ssh', 'tls'].flatMap((p) => {
    const r = result(p);
    return r?.status === 'completed' ? [] : [`${p}: ${r ? r.status : 'not run'}`];
  });
}

const COMPARE = 'starbench report RUN --compare-keys OTHER_UNIT_RUN';

export const uniqueDeviceKeysCheck: Check = {
  id: 'crypto.unique-device-keys',
  title: 'Preinstalled keys are not shared with other units',
  failsWhen: 'an SSH host key or TLS key of this unit is also on another unit (compared from saved runs)',
  probes: ['ssh', 'tls'],
  implemented: true,
  fix: 'Generate host keys and TLS keys per unit (at first boot or in a controlled factory step), never bake one key into the firmware image.',
  judge(input: JudgeInput): CheckJudgement {
    const gates = ['ssh', 'tls'].map((p) => gate(input, p));
    const own = deviceKeys(input.result);
    // The facts a pass rests on: those of the services that exist (a device with SSH only cites no TLS fact).
    const cited = basis(
      ...(completedFacts(input.result('ssh'), SshServiceFact).length ? [['ssh', SshServiceFact] as [string, FactKind]] : []),
      ...(completedFacts(input.result('tls'), TlsServiceFact).length ? [['tls', TlsServiceFact] as [string, FactKind]] : []),
    );
    const peers = input.peers ?? [];
    const findings: Finding[] = [];
    for (const peer of peers)
      for (const k of own)
        for (const p of peer.keys.filter((x) => x.sha256 === k.sha256))
          findings.push({ severity: 'high', message: `${k.where} (${k.sha256}) is also ${p.where} on ${peer.device} (run ${peer.runId})` });
    if (findings.length)
      return {
        verdict: 'fail',
        rationale: `${findings.length} key(s) shared with another unit (compare runs of two units: a unit run twice has its own keys twice)`,
        findings,
      };
    const blocked = gates.flatMap((g) => (g.ok ? [] : [g.judgement]));
    if (blocked.length) return { verdict: worst(blocked.map((b) => b.verdict)), rationale: blocked.map((b) => b.rationale).join('; '), findings: [] };
    if (!own.length) {
      if (!cited.length) return noServiceJudgement(input, 'SSH or TLS');
      return { verdict: 'inconclusive', rationale: 'no key fingerprint was recorded for this unit (a run from before fingerprints were kept?)', findings: [] };
    }
    if (!peers.length)
      return {
        verdict: 'not-tested',
        rationale: `${own.length} key fingerprint(s) recorded; comparing them needs another unit's saved run: ${COMPARE}`,
        findings: own.map((k) => ({ severity: 'info' as const, message: `${k.where}: ${k.sha256}` })),
      };
    // Nothing shared is only evidence where each of this unit's keys met a key of its kind in every other unit's run.
    const gaps: string[] = [];
    for (const p of peers) {
      const who = `${p.device} (run ${p.runId})`;
      if (p.unread.length) gaps.push(`the run of ${who} did not read all its keys (${p.unread.join(', ')})`);
      if (p.model && input.device.device.model && p.model !== input.device.device.model)
        gaps.push(`${who} is a ${p.model}, not a ${input.device.device.model}: another model is no comparison`);
      const missing = [...new Set(own.map((k) => k.kind))].filter((kind) => !p.keys.some((x) => x.kind === kind));
      if (missing.length) gaps.push(`the run of ${who} recorded no ${missing.join(', ')} key to compare with`);
    }
    if (gaps.length) return { verdict: 'inconclusive', rationale: `no key shared, but: ${gaps.join('; ')}`, findings: [] };
    return {
      verdict: 'pass',
      rationale: `${own.length} key(s) of this unit compared with ${peers.map((p) => `${p.keys.length} of ${p.device} (run ${p.runId})`).join(', ')}: none shared`,
      findings: [],
      basis: cited,
    };
  },
};
