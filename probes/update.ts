/**
 * update: what the device installs. Read the version, then offer, in this
 * order, a tampered image (one byte of the genuine image flipped), an
 * unsigned image (the declared signature region zeroed), the genuine image
 * as the positive control, then the older genuine image (from the newest
 * version, so a rollback is the version going down), and the genuine image
 * again if the older one went in — reading the version after each. The
 * image format is the device's own: starbench only flips a byte and zeroes
 * the declared signature bytes.
 *
 * The probe records versions, never judgements: whether an image went in is
 * decided by the checks from the version the device reports, never from the
 * install request's status (a device that answers 200 and keeps its version
 * did not install the image).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DeviceFile } from '../harness/device-file/schema';
import { sha256Hex } from '../harness/hash';
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { z } from 'zod';
import { defineFact, FirmwareVersionFact } from '../harness/facts';
import { lockWaitMs } from './credentials/session';
import { sleepUnlessAborted } from './util/sleep';
import { actionRecordSchema, deviceReturnSchema, runAction, waitForDevice, type ActionRecord } from './util/actions';

// Offered in this order: tampered, unsigned, genuine (the positive control), then older — from the newest
// version, so a rollback shows as the version going down even when the device started at the older image's
// version — and, when the older image went in, the genuine image again ('restore') to leave the device on it.
export const UPDATE_STEPS = ['tampered', 'unsigned', 'older', 'genuine', 'restore'] as const;
export type UpdateStepName = (typeof UPDATE_STEPS)[number];

const updateStep = z.object({
  step: z.enum(UPDATE_STEPS),
  /** How the image was made, in words. */
  image: z.string(),
  sha256: z.string(),
  bytes: z.number().int(),
  versionBefore: z.string(),
  versionAfter: z.string().optional(),
  install: actionRecordSchema,
  return: deviceReturnSchema.optional(),
  /**
   * Whether the reported version changed after this image (null: no version was read after it). The raw
   * reading, kept for older readers; whether the image was accepted is the checks' judgement
   * (profiles/checks/update.ts judgeInstalls: a device already on the version an image carries cannot show it).
   */
  installed: z.boolean().nullable(),
  note: z.string().optional(),
  /** The version held still for update.stableSeconds after the image (false: it kept changing, or the device went away). */
  stable: z.boolean().optional(),
  /** Version readings taken to see it hold still. */
  readings: z.number().int().optional(),
  /** From the upload's answer: how long the version was watched, and when it first changed. */
  watchedMs: z.number().optional(),
  changedAfterMs: z.number().optional(),
  /**
   * From the upload's answer to the first version reading the device did not answer (gone away, as a restart
   * does — or a reading that failed). Evidence only: it never turns an unknown into a refusal (the restart seen
   * after one image may have been started by the image before it).
   */
  awayAfterMs: z.number().optional(),
  /** A version read later (before the next image, or at the end) that differs from versionAfter: the judgement came too early. */
  versionLater: z.string().optional(),
});
export type UpdateStep = z.infer<typeof updateStep>;

/** The install sequence: the version before and after each image (tampered, unsigned, older, genuine). */
export const UpdateSequenceFact = defineFact(
  'update-sequence',
  z.object({
    versionStart: z.string().optional(),
    versionEnd: z.string().optional(),
    /** Why the sequence stopped early, or why it could not start. */
    stopped: z.string().optional(),
    steps: z.array(updateStep),
    /** Steps not attempted and why (no older image declared, no signature region declared). */
    notAttempted: z.array(z.object({ step: z.enum(UPDATE_STEPS), why: z.string() })),
  }),
  // The positive control: without a readable version and a genuine image seen installed, no refusal means anything.
  (f) => {
    if (!f.versionStart) return f.stopped ?? 'the version could not be read';
    if (!f.steps.some((s) => s.step === 'genuine')) return 'the genuine image (the positive control) was not offered';
    // Raw observation, not the probe's reading: the version moved after the genuine image (or after it again, following the older one).
    const moved = f.steps.some((s) => (s.step === 'genuine' || s.step === 'restore') && s.versionAfter !== undefined && s.versionAfter !== s.versionBefore);
    return moved ? null : 'the genuine image (the positive control) was not seen installed';
  },
  // Each image on its own: what happened to it was seen only when a version was read after it, and an
  // unchanged version is a refusal only when the install request was answered (an upload that got no
  // answer at all may never have reached the device).
  (f) =>
    Object.fromEntries(
      f.steps.map((s) => {
        if (s.versionAfter === undefined) return [s.step, `no version was read after the ${s.step} image`];
        if (s.stable === false) return [s.step, s.note ?? `the version did not hold still after the ${s.step} image`];
        // Refused at the door (a lock, the lab credential not let in): the device never judged the image.
        if (s.versionAfter === s.versionBefore && (s.install.locked !== undefined || [401, 407, 423, 429].includes(s.install.status ?? 0)))
          return [s.step, `the ${s.step} image was not let in (${s.install.locked ?? `HTTP ${s.install.status}`}): the device never judged it`];
        // The lab credential did not work right before the upload: whatever the device answered, it may not have judged the image.
        if (s.versionAfter === s.versionBefore && s.install.access?.ok === false)
          return [s.step, `the lab credential did not work before the ${s.step} image (${s.install.access.why}): a refusal cannot be told from a lockout`];
        if (s.versionAfter === s.versionBefore && !s.install.ok && s.install.status === undefined)
          return [
            s.step,
            `the ${s.step} image's upload got no answer (${s.install.error ?? 'none'}) and the version stayed ${s.versionBefore}: whether it reached the device cannot be told`,
          ];
        return [s.step, null];
      }),
    ),
);
export type UpdateFacts = z.infer<typeof UpdateSequenceFact.schema>;
/** The firmware version the device reported before any install: the core's own fact kind. */
export { FirmwareVersionFact };

/** One byte flipped: the declared offset, or the middle of the file. */
export function tamperImage(genuine: Buffer, offset?: number): { image: Buffer; at: number } {
  const at = offset ?? Math.floor(genuine.length / 2);
  if (at >= genuine.length) throw new Error(`update.images.tamperOffset ${at} is beyond the genuine image (${genuine.length} bytes)`);
  const image = Buffer.from(genuine);
  image[at] ^= 0xff;
  return { image, at };
}

/** The declared signature bytes zeroed. */
export function unsignImage(genuine: Buffer, sig: { offset: number; length: number }): Buffer {
  if (sig.offset + sig.length > genuine.length)
    throw new Error(`update.images.signature (${sig.offset}+${sig.length}) is beyond the genuine image (${genuine.length} bytes)`);
  const image = Buffer.from(genuine);
  image.fill(0, sig.offset, sig.offset + sig.length);
  return image;
}

function perStepMs(device: DeviceFile): number {
  const l = device.limits;
  return (l.actionTimeoutSeconds + l.deviceReturnSeconds + (device.update?.settleSeconds ?? 0) + 10) * 1000;
}

/** The version read just before the next step (or after the last) differs from the last judgement: that step is unknown. */
function lateChange(facts: UpdateFacts, now: string | undefined): boolean {
  const last = facts.steps[facts.steps.length - 1];
  if (!last || now === undefined || last.versionAfter === undefined || now === last.versionAfter) return false;
  last.stable = false;
  last.versionLater = now;
  last.note = `the version changed to ${now} after the ${last.step} image had been judged on ${last.versionAfter}`;
  return true;
}

/**
 * Read the version until it has held still for `windowMs` (bounded by limits.deviceReturnSeconds); a device
 * that goes away meanwhile (a late reboot) is waited for. Each reading is one request, once a second at most.
 */
async function holdsStill(
  ctx: ProbeContext,
  before: string,
  first: string,
  windowMs: number,
): Promise<{ version: string; stable: boolean; readings: number; flipped?: string; changedAtMs?: number; awayAtMs?: number; watchedMs: number }> {
  const version = ctx.device.update!.version!;
  const end = Date.now() + ctx.device.limits.deviceReturnSeconds * 1000;
  const seen = new Set<string>([first]);
  const started = Date.now();
  let changedAtMs: number | undefined = first !== before ? 0 : undefined;
  let awayAtMs: number | undefined;
  const result = (v: string, stable: boolean, readings: number) => {
    // A version seen for a while and then gone again (an A/B fallback) is an install that did happen: never "refused".
    const flipped = v === before ? [...seen].find((x) => x !== before) : undefined;
    return { version: v, stable: stable && flipped === undefined, readings, flipped, changedAtMs, awayAtMs, watchedMs: Date.now() - started };
  };
  let v = first;
  let since = Date.now();
  let readings = 1;
  while (Date.now() - since < windowMs && Date.now() < end && !ctx.signal.aborted) {
    await sleepUnlessAborted(ctx.signal, Math.min(1000, Math.max(100, windowMs / 3)));
    const r = await runAction(ctx, 'update.version', version, { read: true, once: true });
    readings += 1;
    const now = r.record.ok ? r.record.value : undefined;
    if (now === undefined) {
      awayAtMs ??= Date.now() - started;
      const back = await waitForDevice(ctx, { settleMs: 0, returnMs: Math.max(0, end - Date.now()) });
      if (!back.returned || !back.version) return result(v, false, readings);
      seen.add(back.version);
      if (back.version !== before) changedAtMs ??= Date.now() - started;
      if (back.version !== v) v = back.version;
      since = Date.now();
    } else if (now !== v) {
      seen.add(now);
      if (now !== before) changedAtMs ??= Date.now() - started;
      v = now;
      since = Date.now();
    }
  }
  return result(v, Date.now() - since >= windowMs, readings);
}

export const updateProbe: Probe = {
  id: 'update',
  title: 'Update: tampered, unsigned, older and genuine images',
  needs: ['update.version', 'update.install'],
  facts: [FirmwareVersionFact, UpdateSequenceFact],
  disruptive: 'update',
  clauses: ['EN 303 645 5.3-4', 'EN 303 645 5.3-7', 'EN 303 645 5.3-9', 'TS 103 701 5.3-7-1', 'TS 103 701 5.3-9-1'],
  // Each step may also wait out a lockout before it (bounded in probes/credentials/session.ts).
  timeoutMs: (device) => 5 * perStepMs(device) + 30_000 + 5 * lockWaitMs(device),
  skipReason(device, env) {
    const u = device.update;
    if (!u?.install) return 'no update.install action declared';
    if (!u.version) return 'no update.version action declared: starbench judges an install by the version the device reports';
    if (!u.images?.genuine) return 'no update.images.genuine declared: every test image is made from it';
    if (!env.interactive && (u.install.operator || u.version.operator)) return 'the update actions are operator steps and this run is non-interactive';
    return null;
  },
  async run(ctx: ProbeContext) {
    const u = ctx.device.update!;
    const images = u.images!;
    const genuine = readFileSync(images.genuine!);
    const facts: UpdateFacts = { steps: [], notAttempted: [] };
    const observations: Observation[] = [];
    const readVersion = async (): Promise<{ value?: string; record: ActionRecord }> => {
      const r = await runAction(ctx, 'update.version', u.version!, { read: true });
      return { value: r.record.ok ? r.record.value : undefined, record: r.record };
    };

    const plan: Array<{ step: UpdateStepName; image: Buffer; label: string }> = [];
    const t = tamperImage(genuine, images.tamperOffset);
    plan.push({ step: 'tampered', image: t.image, label: `genuine image with byte ${t.at} flipped` });
    if (images.signature) {
      plan.push({
        step: 'unsigned',
        image: unsignImage(genuine, images.signature),
        label: `genuine image with signature bytes ${images.signature.offset}..${images.signature.offset + images.signature.length - 1} zeroed`,
      });
    } else facts.notAttempted.push({ step: 'unsigned', why: 'update.images.signature is not declared, so starbench does not know which bytes to strip' });
    plan.push({ step: 'genuine', image: genuine, label: `genuine image ${path.basename(images.genuine!)}` });
    if (images.older) plan.push({ step: 'older', image: readFileSync(images.older), label: `older genuine image ${path.basename(images.older)}` });
    else facts.notAttempted.push({ step: 'older', why: 'update.images.older is not declared' });

    const start = await readVersion();
    facts.versionStart = start.value;
    if (!start.value) {
      facts.stopped = `could not read the version before installing anything: ${start.record.error ?? `status ${start.record.status ?? 'none'}`}`;
    } else {
      let current = start.value;
      /** How long this device took, at most, from answering an upload to showing the new version. */
      let latencyMs = 0;
      for (let i = 0; i < plan.length; i++) {
        const p = plan[i];
        if (i > 0 && !lateChange(facts, (await readVersion()).value)) current = facts.steps[facts.steps.length - 1].versionAfter ?? current;
        else if (i > 0) current = facts.steps[facts.steps.length - 1].versionLater!;
        ctx.progress(`update: installing the ${p.step} image (device at ${current})`);
        const install = await runAction(ctx, 'update.install', u.install!, { body: p.image, bodyLabel: `${p.step} image` });
        const answeredAt = Date.now();
        const back = await waitForDevice(ctx, { settleMs: u.settleSeconds * 1000 });
        const step: UpdateStep = {
          step: p.step,
          image: p.label,
          sha256: sha256Hex(p.image),
          bytes: p.image.length,
          versionBefore: current,
          install: install.record,
          return: back,
          installed: null,
        };
        facts.steps.push(step);
        if (!back.returned) {
          step.note = `the device did not answer within ${Math.round(back.afterMs / 1000)} s after the ${p.step} image (${back.how})`;
          facts.stopped = `${step.note}; no further image offered`;
          break;
        }
        const first = back.version ?? (await readVersion()).value;
        // Judged only once the version holds still: a device that answers the upload at once and installs a few
        // seconds later has its install credited to this image, not to the next one.
        // Watched at least as long as the stability window, and half as long again as this device took to show an install.
        const windowMs = Math.max(u.stableSeconds * 1000, Math.round(1.5 * latencyMs));
        const heldFrom = Date.now();
        const held = first ? await holdsStill(ctx, current, first, windowMs) : undefined;
        const after = held?.version ?? first;
        if (back.awayAfterMs !== undefined) step.awayAfterMs = back.awayAfterMs;
        if (held) {
          if (held.awayAtMs !== undefined) step.awayAfterMs ??= heldFrom - answeredAt + held.awayAtMs;
          step.stable = held.stable;
          step.readings = held.readings;
          step.watchedMs = heldFrom - answeredAt + held.watchedMs;
          if (held.changedAtMs !== undefined) {
            step.changedAfterMs = heldFrom - answeredAt + held.changedAtMs;
            latencyMs = Math.max(latencyMs, step.changedAfterMs);
          }
          if (held.flipped) step.note = `the version went to ${held.flipped} after the ${p.step} image and back to ${held.version}`;
          else if (!held.stable) step.note = `the version did not hold still for ${u.stableSeconds} s after the ${p.step} image (last ${held.version})`;
        }
        step.versionAfter = after;
        if (!after) {
          step.note = 'the device came back but its version could not be read';
          facts.stopped = `${step.note}; no further image offered`;
          break;
        }
        step.installed = after !== current;
        current = after;
        // The device went back to the older image: put the genuine one on again (bounded: once).
        if (p.step === 'older' && step.installed === true)
          plan.push({
            step: 'restore',
            image: genuine,
            label: `genuine image ${path.basename(images.genuine!)} again, to leave the device on it`,
          });
      }
    }
    // One more reading after the last image: a change after it was judged makes that judgement unknown.
    if (facts.steps.length > 0 && facts.steps[facts.steps.length - 1].versionAfter !== undefined) {
      await sleepUnlessAborted(ctx.signal, Math.min(10_000, u.stableSeconds * 1000));
      lateChange(facts, (await readVersion()).value);
    }
    // An image judged refused after being watched for less time than this device took to show an install it did make
    // (learned later, from the genuine image) may have gone in after the look: unknown, not refused.
    const slowest = Math.max(0, ...facts.steps.map((x) => x.changedAfterMs ?? 0));
    for (const x of facts.steps) {
      if (x.versionAfter === x.versionBefore && x.stable !== false && x.watchedMs !== undefined && x.watchedMs < 1.5 * slowest) {
        x.stable = false;
        x.note = `watched for ${Math.round(x.watchedMs / 1000)} s, but this device took ${Math.round(slowest / 1000)} s to show an install: a later install cannot be ruled out (a maker can declare update.stableSeconds to have each image watched longer)`;
      }
    }
    // The version the device reported before anything was installed: the report's observed firmware.
    if (facts.versionStart)
      observations.push({
        kind: 'firmware-version',
        summary: `firmware ${facts.versionStart} (update.version action, before any install)`,
        data: { version: facts.versionStart, how: 'update.version action' },
      });
    const last = facts.steps[facts.steps.length - 1];
    facts.versionEnd = last?.versionAfter ?? facts.versionStart;
    observations.push({
      kind: 'update-sequence',
      summary: facts.versionStart
        ? `version ${facts.versionStart} → ${facts.versionEnd ?? '?'}; ${facts.steps.map((s) => `${s.step}: ${s.installed === true ? 'version changed' : s.installed === false ? 'version unchanged' : 'no version read'} (${s.versionBefore} → ${s.versionAfter ?? '?'})`).join('; ')}${facts.stopped ? `; stopped: ${facts.stopped}` : ''}`
        : `update not tested: ${facts.stopped}`,
      data: { ...facts },
    });
    const evidence = ctx.evidence.write('steps.json', JSON.stringify({ versionRead: start.record, ...facts }, null, 2));
    return { observations, evidence: [evidence] };
  },
};
