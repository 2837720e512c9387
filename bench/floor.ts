/**
 * The time a device itself forces on an assessment, read from a run's
 * journal: what no tool asking the same questions with the same care could
 * save. starbench's overhead is the rest of the wall time.
 *
 * Counted (each part named in the benchmark's output):
 * - refusal delays: each wrong password costs the latency the device gave it
 *   (median of the brute-force series on that port), divided by the logins
 *   allowed at once (the connection limit; one at a time under a lockout);
 * - lockout waits: every wait for the lab credential the auth ledger records;
 * - good logins a step needs (the credential change's controls), at the
 *   latency of the lab login on that port;
 * - actions and returns: install, restart, reset and change requests as long
 *   as the device took to answer them, and the time until it answered again;
 * - declared windows: the traffic watch (traffic.seconds, MITM window), the
 *   MQTT listening window, each image's stable-version watch
 *   (update.stableSeconds), the credential change's settle, late-change and
 *   hold windows.
 *
 * Not counted (overhead, on purpose): port scanning, TLS and SSH handshakes,
 * page fetches, the bench's drains and polls, the dictionary's and brute
 * force's lab logins.
 * The ordinary probes run side by side, so their phase counts its longest
 * part; the disruptive steps run one after another and add up. A floor
 * computed so under-counts rather than over-counts: the overhead it leaves is
 * an upper bound.
 */
import type { JournalEvent } from '../harness/journal';
import type { Observation, ProbeResult } from '../harness/types';

export interface FloorPart {
  probe: string;
  what: string;
  ms: number;
}

export interface Floor {
  ms: number;
  ordinaryMs: number;
  disruptiveMs: number;
  parts: FloorPart[];
}

/** What the floor needs from the device file. */
export interface FloorDevice {
  limits: { connections: number };
  auth: ReadonlyArray<{ port: number; lockoutGroup?: string; bruteForce?: string; lockoutAfter?: number }>;
  credentialChange?: { settleSeconds?: number; holdSeconds?: number };
  traffic?: { seconds?: number; mitmSeconds?: number };
  update?: { stableSeconds?: number };
}

/** The auth ledger's waits, as report.json carries them. */
export interface LedgerWait {
  purpose: string;
  port: number;
  waitedMs: number;
  ok: boolean;
}

/** Mirrors probes/util/mqtt-listen.ts MQTT_WINDOW_MS and probes/credential-change.ts LATE_CHANGE_MS. */
const MQTT_WINDOW_MS = 2000;
const LATE_CHANGE_MS = 5000;

type Data = Record<string, unknown>;
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const median = (xs: number[]): number => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] : 0);
const rec = (v: unknown): Data => (v && typeof v === 'object' ? (v as Data) : {});

function obs(r: ProbeResult | undefined, kind: string): Data[] {
  return (r?.observations ?? []).filter((o: Observation) => o.kind === kind).map((o) => o.data as Data);
}

/** An action record's own time plus the device's return after it. */
function actionMs(action: unknown, ret: unknown): number {
  return num(rec(action).durationMs) + num(rec(ret).afterMs);
}

export function deviceFloor(events: readonly JournalEvent[], device: FloorDevice, waits: readonly LedgerWait[] = []): Floor {
  const results = new Map<string, ProbeResult>();
  for (const e of events) if (e.type === 'probe-end') results.set((e.result as ProbeResult).probe, e.result as ProbeResult);
  const limit = Math.max(1, device.limits.connections);
  const groupOf = (port: number): string => device.auth.find((a) => a.port === port)?.lockoutGroup ?? 'device';
  const lockout = (port: number): boolean => device.auth.some((a) => a.port === port && (a.bruteForce === 'lockout' || a.lockoutAfter !== undefined));

  // The device's refusal latency per port, from the brute-force series (the one place each refusal is timed).
  const refusal = new Map<number, number>();
  for (const f of obs(results.get('brute-force'), 'brute-force')) {
    const ms = (f.attempts as Array<{ outcome: string; ms: number }>).filter((a) => a.outcome === 'rejected').map((a) => a.ms);
    if (ms.length) refusal.set(num(f.port), median(ms));
  }
  const refused = (port: number): number => refusal.get(port) ?? 0;
  // What a good login costs, from the lab login before each series (a login a check needs, whoever runs it).
  const good = new Map<number, number>();
  for (const f of obs(results.get('brute-force'), 'brute-force')) if (typeof f.labLoginMs === 'number') good.set(num(f.port), f.labLoginMs);
  const accepted = (port: number): number => good.get(port) ?? 0;
  const waitsOf = (purpose: RegExp): number => waits.filter((w) => purpose.test(w.purpose)).reduce((s, w) => s + w.waitedMs, 0);

  const ordinary: FloorPart[] = [];
  const disruptive: FloorPart[] = [];
  const perKey = limit >= 3 ? limit - 1 : limit;

  // Dictionary logins: every target side by side, each at most its share of the connections.
  const logins = obs(results.get('credentials'), 'login-attempts');
  let loginSum = 0;
  for (const f of logins) {
    const port = num(f.port);
    const at = lockout(port) ? 1 : perKey;
    // The dictionary's entries and the random pair that shows a login is judged at all; under a lockout, the lab
    // logins that reset the device's count between entries (the lockout's price, not the bench's).
    const n = num(f.tried) + 1;
    const resets = lockout(port) ? num(f.labLogins) * accepted(port) : 0;
    const ms = (n * refused(port)) / at + resets;
    loginSum += n * refused(port) + resets;
    if (ms > 0)
      ordinary.push({
        probe: 'credentials',
        what: `${n} logins on ${String(f.protocol)} ${port} at ~${refused(port)} ms, ${at} at once${resets ? `, ${num(f.labLogins)} lab logins under the lockout` : ''}`,
        ms,
      });
  }
  if (loginSum / limit > Math.max(0, ...ordinary.map((p) => p.ms)))
    ordinary.push({ probe: 'credentials', what: `every dictionary login through ${limit} connections`, ms: loginSum / limit });
  const credWaits = waitsOf(/^credentials/);
  if (credWaits > 0) ordinary.push({ probe: 'credentials', what: 'lockouts waited out', ms: credWaits });
  // The MQTT listening window (brokers listened to side by side).
  const mqtt = obs(results.get('unauthenticated'), 'unauthenticated').filter((f) => f.what === 'mqtt-anonymous');
  if (mqtt.length) ordinary.push({ probe: 'unauthenticated', what: 'MQTT listening window', ms: MQTT_WINDOW_MS });

  const serialSideBySide = results.has('serial') && !obs(results.get('serial'), 'serial-console').some((f) => f.restart);
  for (const f of obs(results.get('serial'), 'serial-console')) {
    const ms = actionMs(f.restart, f.return);
    if (ms > 0) (serialSideBySide ? ordinary : disruptive).push({ probe: 'serial', what: 'restart and return', ms });
  }

  // The declared windows (the capture's own drain and control are the bench's).
  for (const f of obs(results.get('traffic'), 'traffic-capture')) {
    const declared = f.phase === 'mitm' ? (device.traffic?.mitmSeconds ?? device.traffic?.seconds) : device.traffic?.seconds;
    disruptive.push({ probe: 'traffic', what: `${String(f.phase ?? 'watch')} window`, ms: Math.min(num(f.seconds), num(declared)) * 1000 });
  }

  // Brute force: per login the series (refusals divided by the attempts made at once), the lab logins, and the wait
  // for a lock it set off; logins of one lockout group one after another, independent groups side by side.
  // Side by side the groups share the connections: the longest group, or all the attempts through the limit.
  const series = obs(results.get('brute-force'), 'brute-force');
  const byGroup = new Map<string, number>();
  let allAttempts = 0;
  for (const f of series) {
    const port = num(f.port);
    const at = lockout(port) ? 1 : Math.min(4, limit);
    const attempts = (f.attempts as Array<{ ms: number }>).reduce((s, a) => s + a.ms, 0);
    allAttempts += attempts;
    const ms = attempts / at + num(f.recoveredAfterS) * 1000;
    byGroup.set(groupOf(port), (byGroup.get(groupOf(port)) ?? 0) + ms);
  }
  if (byGroup.size) {
    const ms = byGroup.size > 1 ? Math.max(...byGroup.values(), allAttempts / limit) : [...byGroup.values()][0];
    disruptive.push({
      probe: 'brute-force',
      what: byGroup.size > 1 ? `${byGroup.size} lockout groups side by side, the longest` : `${series.length} login(s), one after another`,
      ms,
    });
  }

  for (const f of obs(results.get('update'), 'update-sequence')) {
    const steps = (f.steps as Data[] | undefined) ?? [];
    // One more stable watch after the last image (update.stableSeconds, at most 10 s): a change after the last judgement.
    if (steps.length > 0)
      disruptive.push({ probe: 'update', what: 'the watch after the last image', ms: Math.min(10_000, num(device.update?.stableSeconds) * 1000) });
    for (const s of steps) {
      // The return includes the declared settle (update.settleSeconds); the watch (update.stableSeconds, longer on a
      // device slow to show an install) runs from the install's answer, so it covers the return.
      const ms = num(rec(s.install).durationMs) + Math.max(num(s.watchedMs), num(rec(s.return).afterMs));
      if (ms > 0) disruptive.push({ probe: 'update', what: `${String(s.step)} image: install, settle and return, stable watch`, ms });
    }
  }

  for (const f of obs(results.get('credential-change'), 'credential-change')) {
    const cc = device.credentialChange ?? {};
    // The declared settle after the change, and again after the change back.
    let ms = actionMs(f.change, undefined) + actionMs(f.changeBack, undefined) + num(cc.settleSeconds) * 1000 * (f.changeBack ? 2 : 1);
    let refusals = 0;
    const ifaces = (f.interfaces as Data[]) ?? [];
    const late = ifaces.some((i) => rec(rec(i.changed).new).result === 'refused');
    // The interfaces' logins, one after another (a session on one interface may refuse another's login).
    let loginsMs = 0;
    for (const i of ifaces) {
      const port = num(i.port);
      // An interface still on the old value was asked twice (before and after the late-change window); the fact
      // keeps the second answer, the first cost the same logins.
      const asked = late && rec(rec(i.changed).new).result === 'refused' ? 2 : 1;
      const changed = Array.from({ length: asked }, () => [rec(i.changed).new, rec(i.changed).old]).flat();
      const results = [i.before, i.anyValue, ...changed, rec(i.restarted).new, rec(i.restarted).old, i.restored];
      const n = results.filter((r) => rec(r).result === 'refused').length;
      refusals += n;
      const logins = n * refused(port) + results.filter((r) => rec(r).result === 'accepted').length * accepted(port);
      loginsMs += logins;
    }
    ms += loginsMs;
    if (late) ms += Math.max(LATE_CHANGE_MS, num(cc.settleSeconds) * 1000);
    // The hold (credentialChange.holdSeconds) after the change, and again after the restart, where the change showed.
    const shown = (stage: 'changed' | 'restarted'): boolean =>
      ifaces.some((i) => rec(rec(i[stage]).new).result === 'accepted' && rec(rec(i[stage]).old).result === 'refused');
    ms += ((shown('changed') ? 1 : 0) + (shown('restarted') ? 1 : 0)) * num(cc.holdSeconds) * 1000;
    disruptive.push({ probe: 'credential-change', what: `change, ${refusals} refused and the accepted login(s), settle and late-change windows`, ms });
  }
  for (const f of obs(results.get('credential-change'), 'restart-persistence'))
    disruptive.push({ probe: 'credential-change', what: 'restart and return', ms: actionMs(f.restart, f.returned) });

  for (const f of obs(results.get('reset'), 'reset')) {
    const ms = actionMs(f.reset, f.return);
    if (ms > 0) disruptive.push({ probe: 'reset', what: 'reset and return', ms });
  }
  const otherWaits = waits.filter((w) => !/^credentials/.test(w.purpose) && !/brute force/.test(w.purpose)).reduce((s, w) => s + w.waitedMs, 0);
  if (otherWaits > 0) disruptive.push({ probe: 'auth ledger', what: 'other lockouts waited out', ms: otherWaits });

  // A device cannot have imposed more than the probe took: estimates made from another probe's latencies (a refusal
  // timed under brute force) are clamped to the time the probe really ran.
  for (const list of [ordinary, disruptive]) {
    const byProbe = new Map<string, FloorPart[]>();
    for (const p of list) byProbe.set(p.probe, [...(byProbe.get(p.probe) ?? []), p]);
    for (const [probe, parts] of byProbe) {
      const took = results.get(probe)?.durationMs;
      if (took === undefined) continue;
      // Side by side each part on its own; one after another, the parts together.
      const over = list === ordinary ? parts.filter((p) => p.ms > took) : parts.reduce((t, p) => t + p.ms, 0) > took ? parts : [];
      const scale = list === ordinary ? undefined : took / parts.reduce((t, p) => t + p.ms, 0);
      for (const p of over) {
        p.ms = scale === undefined ? took : p.ms * scale;
        p.what += ' (clamped to the probe’s own time)';
      }
    }
  }
  const ordinaryMs = Math.max(0, ...ordinary.map((p) => p.ms));
  const disruptiveMs = disruptive.reduce((s, p) => s + p.ms, 0);
  return { ms: ordinaryMs + disruptiveMs, ordinaryMs, disruptiveMs, parts: [...ordinary, ...disruptive].map((p) => ({ ...p, ms: Math.round(p.ms) })) };
}
