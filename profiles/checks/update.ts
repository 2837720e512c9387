/**
 * update.integrity (EN 303 645 5.3-7/5.3-9: updates are authenticated and
 * their integrity checked) and update.rollback (no downgrade to an older,
 * vulnerable image). Both read the update probe's sequence; both need the
 * genuine image to be accepted, or a refusal proves nothing.
 */
import { gate } from '../../harness/gate';
import type { Check, CheckJudgement, Finding, JudgeInput } from '../../harness/types';
import { factOf, basisParts } from '../../harness/facts';
import { UpdateSequenceFact, type UpdateFacts, type UpdateStep, type UpdateStepName } from '../../probes/update';
import { compareVersions } from '../../probes/vulnerabilities/versions';

/** Images made from the genuine one carry its version: tampered, unsigned and the genuine image itself. */
const DERIVED = new Set<UpdateStepName>(['tampered', 'unsigned', 'genuine', 'restore']);

/**
 * Which images went in, decided here from what the probe recorded (the
 * version before and after each image), not taken from the probe: a saved
 * run is judged again under this rule. "Installed" means the reported
 * version changed; an unchanged version is a refusal only when the device
 * did not already run what the image carries.
 */
export function judgeInstalls(f: UpdateFacts): UpdateFacts {
  const genuineVersions = new Set<string>();
  const unseen = UpdateSequenceFact.parts?.(f) ?? {};
  const steps: UpdateStep[] = f.steps.map((s) => {
    const { installed: _recorded, ...raw } = s;
    if (s.versionAfter === undefined) return { ...raw, installed: null, note: s.note ?? 'no version was read after this image' };
    if (s.versionAfter === s.versionBefore && unseen[s.step]) return { ...raw, installed: null, note: unseen[s.step]! };
    if (s.versionAfter !== s.versionBefore) {
      if (DERIVED.has(s.step)) genuineVersions.add(s.versionAfter);
      return { ...raw, installed: true };
    }
    if (DERIVED.has(s.step) && genuineVersions.has(s.versionBefore)) {
      return {
        ...raw,
        installed: null,
        note: `the device already reports ${s.versionBefore}, the version an earlier image made from the genuine one installed; whether this image was accepted cannot be seen`,
      };
    }
    return {
      ...raw,
      installed: false,
      note: s.note ?? (s.install.ok ? `the install request answered ${s.install.status ?? 'ok'} but the version stayed ${s.versionBefore}` : undefined),
    };
  });
  // The version the genuine image carries, as seen when it (or its restore after the older image) went in:
  // an image made from it leaves a device already on that version unchanged whether or not it was accepted.
  const carried = steps.find((x) => (x.step === 'genuine' || x.step === 'restore') && x.installed === true)?.versionAfter;
  for (const x of steps) {
    if (carried && DERIVED.has(x.step) && x.installed === false && x.versionBefore === carried) {
      x.installed = null;
      x.note = `the device already ran ${carried}, the version the genuine image carries: a refusal cannot be told from an install`;
    }
  }
  // A tampered or unsigned image the device answered with success ("taken") and whose version did not move within
  // the watch: a refusal cannot be told from an install that lands later — and an image made from the genuine one
  // carries the genuine version, so a late install would be credited to the genuine image. Only a refusal the device
  // says (a 4xx or 5xx answer, a failed action) counts with an unchanged version.
  for (const x of steps) {
    if ((x.step === 'tampered' || x.step === 'unsigned') && x.installed === false && x.install.ok) {
      x.installed = null;
      x.note = `the install request answered ${x.install.status ?? 'ok'} (the device took the image) and the version stayed ${x.versionBefore}: a refusal cannot be told from an install that lands later`;
    }
  }
  return { ...f, steps };
}

function facts(input: JudgeInput): { ok: true; f: UpdateFacts } | { ok: false; judgement: CheckJudgement } {
  const g = gate(input, 'update');
  if (!g.ok) return g;
  const f = factOf(g.result, UpdateSequenceFact);
  if (!f) return { ok: false, judgement: { verdict: 'inconclusive', rationale: 'the update probe recorded no sequence', findings: [] } };
  if (!f.versionStart) return { ok: false, judgement: { verdict: 'inconclusive', rationale: f.stopped ?? 'the version could not be read', findings: [] } };
  return { ok: true, f: judgeInstalls(f) };
}

const stepOf = (f: UpdateFacts, s: UpdateStepName): UpdateStep | undefined => f.steps.find((x) => x.step === s);

/** An image the sequence never offered: not-tested when the device file gave none, inconclusive when the sequence stopped first. */
function notOffered(f: UpdateFacts, step: UpdateStepName, findings: Finding[]): CheckJudgement {
  const why = f.notAttempted.find((n) => n.step === step)?.why;
  return why
    ? { verdict: 'not-tested', rationale: `no ${step} image offered: ${why}`, findings }
    : { verdict: 'inconclusive', rationale: `the sequence stopped before the ${step} image: ${f.stopped ?? 'unknown'}`, findings };
}
const moved = (s: UpdateStep): string => `${s.versionBefore} → ${s.versionAfter ?? '?'}`;

function trail(f: UpdateFacts): Finding[] {
  const out: Finding[] = f.steps.map((s) => ({
    severity: 'info' as const,
    message: `${s.step} image (${s.image}): ${s.installed === true ? 'installed' : s.installed === false ? 'refused' : 'cannot tell'}, version ${moved(s)}; install ${s.install.status ?? s.install.error ?? 'no answer'}${s.note ? ` — ${s.note}` : ''}`,
  }));
  for (const n of f.notAttempted) out.push({ severity: 'info', message: `${n.step} image not offered: ${n.why}` });
  if (f.stopped) out.push({ severity: 'info', message: `stopped: ${f.stopped}` });
  return out;
}

/** The step that is the positive control: the genuine image, or the genuine image again after the older one. */
const control = (f: UpdateFacts): UpdateStepName => (stepOf(f, 'genuine')?.installed === true ? 'genuine' : 'restore');

/** The genuine image must have been accepted for a refusal to mean anything. */
function mechanismWorks(f: UpdateFacts): string | null {
  const g = stepOf(f, 'genuine');
  if (!g) return f.stopped ? `the sequence stopped before the genuine image: ${f.stopped}` : 'the genuine image was not offered';
  // The genuine image going in after the older one is the same positive control.
  if (g.installed === true || stepOf(f, 'restore')?.installed === true) return null;
  if (g.installed === null) return `whether the genuine image was accepted cannot be seen (${g.note ?? 'no version after it'})`;
  return `the genuine image was not accepted either (version stayed ${g.versionBefore}): the update mechanism does not work as declared, so refusing the other images proves nothing — if the device already runs that version, start from an older firmware or provide a newer genuine image`;
}

export const updateIntegrityCheck: Check = {
  id: 'update.integrity',
  title: 'Tampered or unsigned images are refused',
  failsWhen: 'the device installs a tampered or unsigned image',
  probes: ['update'],
  implemented: true,
  fix: 'Verify a signature over the whole image (header and payload) with a key the device holds before installing anything, and refuse images that fail.',
  judge(input) {
    const r = facts(input);
    if (!r.ok) return r.judgement;
    const f = r.f;
    const findings = trail(f);
    const bad = (['tampered', 'unsigned'] as const).map((s) => stepOf(f, s)).filter((s): s is UpdateStep => s?.installed === true);
    if (bad.length > 0) {
      for (const s of bad) findings.unshift({ severity: 'high', message: `the ${s.step} image was installed: version ${moved(s)} (${s.image})` });
      return { verdict: 'fail', rationale: `the device installed ${bad.map((s) => `the ${s.step}`).join(' and ')} image`, findings };
    }
    const tampered = stepOf(f, 'tampered');
    // An update mechanism that installs nothing, not even the genuine image, is the first thing to say.
    const broken = mechanismWorks(f);
    if (!tampered || tampered.installed === null)
      return {
        verdict: 'inconclusive',
        rationale: broken ?? `the tampered image's fate is unknown: ${tampered?.note ?? f.stopped ?? 'not offered'}`,
        findings,
      };
    if (broken) return { verdict: 'inconclusive', rationale: broken, findings };
    const unsigned = stepOf(f, 'unsigned');
    const also = unsigned
      ? unsigned.installed === false
        ? ' and the unsigned image'
        : '; the unsigned image could not be judged'
      : ' (unsigned image not offered: no signature region declared)';
    return {
      verdict: 'pass',
      rationale: `refused the tampered image${also}, and installed the genuine one (version ${moved(stepOf(f, 'genuine')!)})`,
      findings,
      basis: basisParts('update', UpdateSequenceFact, ['tampered', ...(unsigned?.installed === false ? ['unsigned'] : []), control(f)]),
    };
  },
};

export const updateRollbackCheck: Check = {
  id: 'update.rollback',
  title: 'Older genuine images are refused',
  failsWhen: 'the device installs an older genuine image',
  probes: ['update'],
  implemented: true,
  fix: 'Keep a monotonic version (or security version counter) and refuse any image older than the installed one, even when its signature is valid.',
  judge(input) {
    const r = facts(input);
    if (!r.ok) return r.judgement;
    const f = r.f;
    const findings = trail(f);
    const older = stepOf(f, 'older');
    if (older?.installed === true) {
      findings.unshift({ severity: 'high', message: `the older genuine image was installed: version ${moved(older)}` });
      return { verdict: 'fail', rationale: `the device went back to an older image (${moved(older)})`, findings };
    }
    if (!older) return notOffered(f, 'older', findings);
    if (older.installed === null)
      return { verdict: 'inconclusive', rationale: `whether the older image was installed cannot be seen: ${older.note ?? 'no version after it'}`, findings };
    const broken = mechanismWorks(f);
    if (broken) return { verdict: 'inconclusive', rationale: broken, findings };
    return {
      verdict: 'pass',
      rationale: `refused the older image (version stayed ${older.versionBefore}) and installed the genuine one`,
      findings,
      basis: basisParts('update', UpdateSequenceFact, ['older', control(f)]),
    };
  },
};

/**
 * update.capability — JC-STAR S1.1-06 (tentative: an update mechanism exists and works), EN 303 645 5.3-1/5.3-2:
 * the mechanism the maker declares installs the maker's own genuine, newer image. The positive control of the two
 * checks above, judged on its own.
 */
export const updateCapabilityCheck: Check = {
  id: 'update.capability',
  title: 'The declared update mechanism installs a genuine, newer image',
  failsWhen: 'the declared update mechanism does not install the genuine image: the version does not move to the declared update.images.genuineVersion',
  probes: ['update'],
  implemented: true,
  fix: 'Make the declared update path (web UI, app, OTA) install a signed image of a newer version, and report the new version afterwards.',
  judge(input) {
    const r = facts(input);
    if (!r.ok) return r.judgement;
    const f = r.f;
    const findings = trail(f);
    const declared = input.device.update?.images?.genuineVersion;
    const g = stepOf(f, 'genuine');
    const restore = stepOf(f, 'restore');
    const went = [g, restore].find((s) => s?.installed === true);
    if (went) {
      const after = went.versionAfter!;
      // Installed means the version moved; a capability means it moved to the newer image, not sideways or down.
      const ok = declared !== undefined ? after === declared : compareVersions(after, went.versionBefore) > 0;
      if (ok)
        return {
          verdict: 'pass',
          rationale: `the declared update mechanism installed the genuine image: version ${moved(went)} (${went.image})`,
          findings,
          basis: basisParts('update', UpdateSequenceFact, [control(f)]),
        };
      return {
        verdict: 'inconclusive',
        rationale: `after the genuine image the version moved ${moved(went)}, ${declared !== undefined ? `not to the declared ${declared}` : 'but not upward'}: whether the genuine image is what went in cannot be told`,
        findings,
      };
    }
    if (!g) return notOffered(f, 'genuine', findings);
    if (g.installed === null)
      return { verdict: 'inconclusive', rationale: `whether the genuine image went in cannot be seen: ${g.note ?? 'no version after it'}`, findings };
    // Not installed: a failure only when the image is known to carry another version than the one running.
    if (declared === undefined || declared === g.versionBefore)
      return {
        verdict: 'inconclusive',
        rationale: `the version stayed ${g.versionBefore} after the genuine image (${g.image})${declared === undefined ? ': if the image carries that same version nothing could move — declare update.images.genuineVersion' : ', the version it carries'}`,
        findings,
      };
    findings.unshift({
      severity: 'high',
      message: `the genuine image (${declared}) was not installed: version stayed ${g.versionBefore}; install ${g.install.status ?? g.install.error ?? 'no answer'}`,
    });
    return {
      verdict: 'fail',
      rationale: `the declared update mechanism did not install the genuine image ${declared} (${g.image}): the version stayed ${g.versionBefore}${g.install.ok ? ' although the install request was answered with success' : ''}`,
      findings,
    };
  },
};
