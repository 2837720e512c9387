/**
 * reset: does a factory reset delete the user's data? Positive control first
 * (the canaries are visible with lab credentials), then the declared reset
 * action, a bounded wait for the device, and the same channels read again.
 * When the canaries are not visible before, the device is not reset at all:
 * nothing could be concluded, and the lab's enrolment would be lost.
 */
import type { Probe } from '../harness/types';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import { lockWaitMs } from './credentials/session';
import { actionRecordSchema, deviceReturnSchema, runAction, waitForDevice } from './util/actions';
import { channelObservations, dataChannelSchema, sweepPersonalData } from './personal-data';

/** The canaries read before the reset, the reset action, the wait for the device, and the same channels read after. */
export const ResetFact = defineFact(
  'reset',
  z.object({
    before: z.array(dataChannelSchema),
    reset: actionRecordSchema.optional(),
    return: deviceReturnSchema.optional(),
    after: z.array(dataChannelSchema),
    /** Categories seen before the reset, and seen again after it (the probe's reading; the check decides again from before/after). */
    survived: z.array(z.string()),
    /** Why the reset was not attempted. */
    notAttempted: z.string().optional(),
  }),
  (f) => {
    if (f.notAttempted) return f.notAttempted;
    if (!f.before.some((c) => c.categories.length)) return 'no canary was seen before the reset (no positive control)';
    if (!f.reset?.ok) return 'the reset action did not succeed';
    if (!f.return?.returned) return 'the device did not come back after the reset';
    const unread = f.before.filter((b) => b.categories.length && !f.after.find((a) => a.channel === b.channel)?.ok);
    return unread.length ? `not read again after the reset: ${unread.map((c) => c.channel).join('; ')}` : null;
  },
);
export type ResetFacts = z.infer<typeof ResetFact.schema>;
export const ResetBeforeFact = defineFact('reset-before', dataChannelSchema);
export const ResetAfterFact = defineFact('reset-after', dataChannelSchema);

export const resetProbe: Probe = {
  id: 'reset',
  title: 'Factory reset: canaries before, reset, canaries after',
  needs: ['reset', 'canaries'],
  facts: [ResetFact, ResetBeforeFact, ResetAfterFact],
  // Destroys the lab's enrolment: after every other probe.
  disruptive: 'factory-reset',
  clauses: ['EN 303 645 5.11-1', 'TS 103 701 5.11-1-1'],
  timeoutMs: (device) => (device.limits.actionTimeoutSeconds + device.limits.deviceReturnSeconds + 60) * 1000 + 2 * lockWaitMs(device),
  skipReason(device, env) {
    if (!device.reset) return 'no reset action declared';
    if (Object.keys(device.personalData?.canaries ?? {}).length === 0) return 'no personalData.canaries declared: there is nothing to look for after the reset';
    if (!env.interactive && device.reset.operator) return 'the reset is an operator step and this run is non-interactive';
    return null;
  },
  async run(ctx) {
    const facts: ResetFacts = { before: await sweepPersonalData(ctx, { replay: false }), after: [], survived: [] };
    const seenBefore = new Set(facts.before.flatMap((c) => c.categories));
    if (seenBefore.size === 0) {
      facts.notAttempted = facts.before.length
        ? 'no canary was visible before the reset (positive control failed); the device was not reset'
        : 'no channel to read the canaries with lab credentials (declare personalData.readBack); the device was not reset';
    } else {
      ctx.progress('factory reset');
      facts.reset = (await runAction(ctx, 'reset', ctx.device.reset!)).record;
      facts.return = await waitForDevice(ctx, { settleMs: (ctx.device.update?.settleSeconds ?? 2) * 1000 });
      if (facts.return.returned) {
        facts.after = await sweepPersonalData(ctx, { replay: false, compareWith: facts.before });
        facts.survived = [...new Set(facts.after.flatMap((c) => c.categories))].filter((c) => seenBefore.has(c));
      }
    }
    const observations = [...channelObservations('reset-before', facts.before), ...channelObservations('reset-after', facts.after)];
    observations.push({
      kind: 'reset',
      summary: facts.notAttempted
        ? `reset not attempted: ${facts.notAttempted}`
        : `before: ${[...seenBefore].join(', ')}; reset ${facts.reset?.ok ? 'answered ok' : `failed (${facts.reset?.error ?? facts.reset?.status})`}; ${facts.return?.returned ? `device back after ${Math.round(facts.return.afterMs / 1000)} s; survived: ${facts.survived.join(', ') || 'none'}` : 'device did not come back'}`,
      data: { ...facts },
    });
    return { observations, evidence: [ctx.evidence.write('canaries.json', JSON.stringify(facts, null, 2))] };
  },
};
