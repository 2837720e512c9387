/**
 * Typed facts: the contract between a probe and the checks that read it.
 * Each probe declares, with a zod schema, every kind of observation it
 * records (`facts`). The runner validates each observation when the probe
 * ends, and `report`/`resume` validate a saved run the same way: an
 * observation that does not match is an error of that probe (its result is
 * `failed`, the reason names the observation), never dropped and never read.
 * Checks read facts only through `factsOf`/`factOf`, which are typed by the
 * schema: no check casts.
 */
import { z } from 'zod';
import type { FactKind, FactRef, ProbeResult } from './types';

export type { FactKind };

/** `unknown`: when a fact of this kind is a look that could not tell (see FactKind.unknown). */
export function defineFact<T>(
  kind: string,
  schema: z.ZodType<T>,
  unknown?: (data: T) => string | null,
  parts?: (data: T) => Record<string, string | null>,
): FactKind<T> {
  return { kind, schema, unknown, parts };
}

/** The facts a verdict rests on: every fact of each kind, from the probe that recorded it. */
export function basis(...refs: Array<[probe: string, kind: FactKind]>): FactRef[] {
  return refs.map(([probe, k]) => ({ probe, kind: k.kind }));
}

/** Every fact of one kind in a probe result (none when the probe did not run). */
export function factsOf<T>(result: ProbeResult | undefined, fact: FactKind<T>): T[] {
  return (result?.observations ?? []).filter((o) => o.kind === fact.kind).map((o) => fact.schema.parse(o.data));
}

/** The facts a verdict rests on: named parts of one fact kind (FactKind.parts), each of which must be observed. */
export function basisParts(probe: string, k: FactKind, parts: readonly string[]): FactRef[] {
  return parts.map((part) => ({ probe, kind: k.kind, part }));
}

/**
 * Why one fact cannot carry a verdict that cites it (null: it can): the whole
 * fact unknown, a cited part missing or unknown, or — when no part is named —
 * any of its parts unknown.
 */
export function whyNotObserved<T>(kind: FactKind<T>, fact: T, part?: string): string | null {
  const whole = kind.unknown?.(fact);
  if (whole) return whole;
  const parts = kind.parts?.(fact) ?? {};
  if (part !== undefined) {
    if (!(part in parts)) return `${kind.kind} has no part "${part}"`;
    return parts[part] ?? null;
  }
  const unknown = Object.entries(parts).filter(([, why]) => why !== null);
  return unknown.length ? unknown.map(([p, why]) => `${p}: ${why}`).join('; ') : null;
}

/** The first fact of one kind, if any. */
export function factOf<T>(result: ProbeResult | undefined, fact: FactKind<T>): T | undefined {
  return factsOf(result, fact)[0];
}

/** Why each observation of a result does not match its probe's declared facts; empty when all do. */
export function invalidObservations(result: ProbeResult, kinds: readonly FactKind[]): string[] {
  const byKind = new Map(kinds.map((k) => [k.kind, k]));
  const out: string[] = [];
  result.observations.forEach((o, i) => {
    const k = byKind.get(o.kind);
    if (!k) {
      out.push(`observation ${i} has kind "${o.kind}", which probe ${result.probe} does not declare (it declares ${[...byKind.keys()].join(', ') || 'none'})`);
      return;
    }
    const parsed = k.schema.safeParse(o.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      out.push(`observation ${i} (${o.kind}) does not match its schema: ${issue.path.join('.') || '(data)'} ${issue.message}`);
    }
  });
  return out;
}

/**
 * A completed result whose observations all match, unchanged; otherwise the
 * same result marked `failed` with the reasons (the observations stay as
 * evidence, but the gate keeps every check from reading them).
 */
export function validateProbeResult(result: ProbeResult, kinds: readonly FactKind[] | undefined): ProbeResult {
  if (result.status !== 'completed' || kinds === undefined) return result;
  const bad = invalidObservations(result, kinds);
  if (bad.length === 0) return result;
  const more = bad.length > 3 ? `; and ${bad.length - 3} more` : '';
  return { ...result, status: 'failed', reason: `its observations do not match its declared facts: ${bad.slice(0, 3).join('; ')}${more}` };
}

/**
 * The one fact kind the core itself reads: the firmware version the device
 * reported (report.json's device.firmware.observed, the surveillance diff).
 * Any probe that reads the version records it under this kind.
 */
export const FirmwareVersionFact = defineFact('firmware-version', z.object({ version: z.string(), how: z.string() }));
