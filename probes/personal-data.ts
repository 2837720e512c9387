/**
 * personal-data: where the device shows the canaries the lab enrolled, with
 * the lab's own credentials — the declared read-back actions (an app API, a
 * config page, a shell command) and every MQTT broker the device file gives
 * an account for. This is the positive control of the privacy checks (the
 * canaries are there, and starbench finds them) and the "clear text on the
 * wire" test (read over http:// or plain MQTT). What is readable with no
 * credentials at all is the unauthenticated, tcp-ports, udp-services and
 * serial probes' business; the privacy checks read those too.
 */
import type { Observation, Probe, ProbeContext } from '../harness/types';
import { z } from 'zod';
import { defineFact } from '../harness/facts';
import type { Action } from '../harness/device-file/schema';
import { guarded } from './credentials/session';
import { actionRecordSchema, runAction } from './util/actions';
import { canariesIn } from './util/canaries';
import { mqttListen } from './util/mqtt-listen';
import { pageShape, pageShapeSchema, topicShape } from './util/shape';

/** One place personal data was looked for. */
export const dataChannelSchema = z.object({
  channel: z.string(),
  authenticated: z.boolean(),
  /** The answer crossed the network unencrypted. */
  clearText: z.boolean(),
  /** The channel was read (2xx, exit 0, broker accepted): an empty result means something. */
  ok: z.boolean(),
  categories: z.array(z.string()),
  detail: z.string(),
  action: actionRecordSchema.optional(),
  /** The answer's shape (media type, structure, the labels that held the data): after a reset, the same page must come back empty. */
  shape: pageShapeSchema.optional(),
});
/** One place the enrolled canaries were looked for with the lab credential, and which categories showed. */
export type DataChannel = z.infer<typeof dataChannelSchema>;
// A channel that could not be read is a place not searched.
export const PersonalDataChannelFact = defineFact('personal-data-channel', dataChannelSchema, (c) => (c.ok ? null : `${c.channel}: ${c.detail}`));
export const PersonalDataSweepFact = defineFact('personal-data-sweep', z.object({ channels: z.number().int(), readBackDeclared: z.number().int() }));

/**
 * Read every declared personal-data channel once. `compareWith`: an earlier
 * sweep of the same channels, whose labels are looked for in this one.
 */
export async function sweepPersonalData(ctx: ProbeContext, opts: { replay?: boolean; compareWith?: DataChannel[] } = {}): Promise<DataChannel[]> {
  const out: DataChannel[] = [];
  const pd = ctx.device.personalData;
  for (const [i, a] of (pd?.readBack ?? []).entries()) {
    const name = `personalData.readBack[${i}]`;
    const r = await runAction(ctx, name, a);
    const categories = canariesIn(ctx.device, r.text);
    const authenticated = Boolean(a.http?.credential ?? a.ssh?.credential ?? a.serial);
    const channel = `${name}: ${r.record.request}`;
    const earlier = opts.compareWith?.find((c) => c.channel === channel)?.shape;
    const canaryValues = Object.values(pd?.canaries ?? {});
    out.push({
      channel,
      authenticated,
      clearText: r.record.clearText,
      ok: r.record.ok,
      categories,
      detail: r.record.ok
        ? `read (${r.record.status ?? 'ok'}); ${categories.length ? `personal data: ${categories.join(', ')}` : 'no canary'}`
        : `could not read: ${r.record.error ?? `status ${r.record.status}`}`,
      action: r.record,
      shape: r.record.ok && !a.operator ? pageShape(r.text, a.http ? r.record.contentType : 'text', canaryValues, earlier?.anchors) : undefined,
    });
    // The control for "needs the lab credential": the same request with none. The data showing is an exposure;
    // a refusal is the evidence the channel is protected; no answer is a place not searched.
    if (a.http?.credential && opts.replay !== false) {
      const open = await replayWithoutCredentials(ctx, name, a.http);
      if (open) out.push(open);
    }
  }
  for (const auth of ctx.device.auth.filter((x) => (x.protocol === 'mqtt' || x.protocol === 'mqtts') && x.credential)) {
    const cred = ctx.device.credentials[auth.credential!];
    const isTls = auth.protocol === 'mqtts';
    const where = `${auth.protocol} ${auth.port} as credential "${auth.credential}", subscribed to #`;
    try {
      const l = await mqttListen(ctx, auth.port, isTls, cred);
      const hits = [...l.topics].filter(([, c]) => c.length);
      const categories = [...new Set(hits.flatMap(([, c]) => c))];
      const earlier = opts.compareWith?.find((c) => c.channel === where)?.shape;
      out.push({
        channel: where,
        authenticated: true,
        clearText: !isTls,
        ok: l.accepted,
        shape: l.accepted ? topicShape(l.topics, earlier?.anchors) : undefined,
        categories,
        detail: l.accepted
          ? `${l.topics.size} topic(s)${hits.length ? `; personal data (${categories.join(', ')}) on ${hits.map(([t]) => t).join(', ')}` : '; no canary'}`
          : `not accepted: ${l.error}`,
      });
    } catch (err) {
      out.push({ channel: where, authenticated: true, clearText: !isTls, ok: false, categories: [], detail: `could not connect: ${(err as Error).message}` });
    }
  }
  return out;
}

async function replayWithoutCredentials(ctx: ProbeContext, name: string, http: NonNullable<Action['http']>): Promise<DataChannel | null> {
  const url = new URL(http.url);
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  const bare: Action = { http: { ...http, credential: undefined } };
  // A credential-less request to a protected page counts as a failed login on many devices: under the ledger.
  const r = await guarded(
    ctx,
    port,
    () => runAction(ctx, `${name} without credentials`, bare, { once: true }),
    (x) => (x.record.status === 401 || x.record.status === 403 ? 1 : 0),
  );
  const channel = `${name} replayed without credentials: ${http.method} ${http.url}`;
  if (r === null)
    return { channel, authenticated: false, clearText: url.protocol === 'http:', ok: false, categories: [], detail: 'not asked: at the lockout limit' };
  // Whatever the status, data in the answer is data handed out: a 401 page that still carries the owner's e-mail is an exposure.
  const categories = canariesIn(ctx.device, r.text);
  const refused = (r.record.status === 401 || r.record.status === 403) && r.record.locked === undefined && categories.length === 0;
  return {
    channel,
    authenticated: false,
    clearText: r.record.clearText,
    // A clean refusal is an answer: it shows the channel is protected.
    ok: r.record.ok || refused || categories.length > 0,
    categories,
    detail: categories.length
      ? `answered WITHOUT credentials (${r.record.status ?? r.record.error}); personal data: ${categories.join(', ')}`
      : r.record.ok
        ? `served without credentials (${r.record.status}); no canary`
        : refused
          ? `refused without credentials (HTTP ${r.record.status}): the channel is protected`
          : `could not be replayed: ${r.record.locked ?? r.record.error ?? `status ${r.record.status}`}`,
    action: r.record,
  };
}

export function channelObservations(kind: string, channels: DataChannel[]): Observation[] {
  return channels.map((c) => ({ kind, summary: `${c.channel}: ${c.detail}${c.clearText && c.categories.length ? ' — IN CLEAR TEXT' : ''}`, data: { ...c } }));
}

export const personalDataProbe: Probe = {
  id: 'personal-data',
  title: 'Personal data: where the enrolled canaries show with lab credentials',
  needs: ['canaries'],
  facts: [PersonalDataChannelFact, PersonalDataSweepFact],
  clauses: ['EN 303 645 5.8-1', 'EN 303 645 5.8-2', 'EN 303 645 6-1', 'TS 103 701 5.8-2-1'],
  skipReason(device) {
    if (Object.keys(device.personalData?.canaries ?? {}).length === 0)
      return 'no personalData.canaries declared: enrol canary values on the device and declare them';
    return null;
  },
  async run(ctx) {
    const channels = await sweepPersonalData(ctx);
    const observations = channelObservations('personal-data-channel', channels);
    observations.push({
      kind: 'personal-data-sweep',
      summary: `${channels.length} channel(s) read with lab credentials; canaries seen: ${[...new Set(channels.flatMap((c) => c.categories))].join(', ') || 'none'}`,
      data: { channels: channels.length, readBackDeclared: ctx.device.personalData?.readBack.length ?? 0 },
    });
    return { observations };
  },
};
