/**
 * One registry of what a run can use: probes and checks by id. Built-ins
 * register exactly as a lab's own module does (`--plugin ./our-probe.js`),
 * and every registration is validated here with a clear error — a probe
 * without declared facts, a check that reads a probe nobody registered, an
 * id taken twice — before anything touches a device.
 */
import { z } from 'zod';
import { StarbenchError } from './errors';
import { DISRUPTIVE_ORDER, type Check, type FactKind, type Probe } from './types';

const ID = /^[a-z0-9][a-z0-9.-]*$/;

const probeShape = z.object({
  id: z.string().regex(ID, 'must be lower-case letters, digits, dots and dashes'),
  title: z.string().min(1),
  needs: z.array(z.string()),
  facts: z
    .array(
      z.object({
        kind: z.string().min(1),
        schema: z.custom<z.ZodType>((s) => s instanceof z.ZodType, "must be a zod schema made with the api's z (defineFact)"),
      }),
      { error: 'must declare at least one fact kind it records (facts: [defineFact(kind, schema)])' },
    )
    .min(1, 'must declare at least one fact kind it records (facts: [defineFact(kind, schema)])'),
  dependsOn: z.array(z.string()).optional(),
  disruptive: z.enum(DISRUPTIVE_ORDER).optional(),
  sideBySide: z.custom<NonNullable<Probe['sideBySide']>>((f) => typeof f === 'function', 'must be a function').optional(),
  run: z.custom<Probe['run']>((f) => typeof f === 'function', 'must be a function'),
});

const checkShape = z.object({
  id: z.string().regex(ID, 'must be lower-case letters, digits, dots and dashes'),
  title: z.string().min(1),
  failsWhen: z.string(),
  probes: z.array(z.string()).min(1, 'must name the probes it reads'),
  alsoReads: z.array(z.string()).optional(),
  implemented: z.boolean(),
  judge: z.custom<Check['judge']>((f) => typeof f === 'function', 'must be a function'),
});

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.join('.') || '(value)'} ${i.message}`).join('; ');
}

export class Registry {
  private readonly probeMap = new Map<string, Probe>();
  private readonly checkMap = new Map<string, Check>();
  private readonly origin = new Map<string, string>();

  get probes(): ReadonlyMap<string, Probe> {
    return this.probeMap;
  }

  get checks(): ReadonlyMap<string, Check> {
    return this.checkMap;
  }

  /** Where an id was registered from ("built-in" or a plugin path). */
  sourceOf(kind: 'probe' | 'check', id: string): string | undefined {
    return this.origin.get(`${kind}:${id}`);
  }

  addProbe(probe: Probe, source = 'built-in'): void {
    const shape = probeShape.safeParse(probe);
    if (!shape.success)
      throw new StarbenchError('PLUGIN_INVALID', `${source}: probe ${String((probe as { id?: unknown })?.id ?? '?')}: ${describe(shape.error)}`);
    if (this.probeMap.has(probe.id))
      throw new StarbenchError('PLUGIN_INVALID', `${source}: probe id "${probe.id}" is already registered by ${this.sourceOf('probe', probe.id)}`);
    const kinds = probe.facts.map((k: FactKind) => k.kind);
    const twice = kinds.find((k, i) => kinds.indexOf(k) !== i);
    if (twice) throw new StarbenchError('PLUGIN_INVALID', `${source}: probe ${probe.id} declares fact kind "${twice}" twice`);
    this.probeMap.set(probe.id, probe);
    this.origin.set(`probe:${probe.id}`, source);
  }

  addCheck(check: Check, source = 'built-in'): void {
    const shape = checkShape.safeParse(check);
    if (!shape.success)
      throw new StarbenchError('PLUGIN_INVALID', `${source}: check ${String((check as { id?: unknown })?.id ?? '?')}: ${describe(shape.error)}`);
    if (this.checkMap.has(check.id))
      throw new StarbenchError('PLUGIN_INVALID', `${source}: check id "${check.id}" is already registered by ${this.sourceOf('check', check.id)}`);
    this.checkMap.set(check.id, check);
    this.origin.set(`check:${check.id}`, source);
  }

  /** Every check reads only registered probes, and every probe depends only on registered ones. */
  validate(): void {
    for (const c of this.checkMap.values()) {
      for (const p of [...c.probes, ...(c.alsoReads ?? [])]) {
        if (!this.probeMap.has(p))
          throw new StarbenchError(
            'PLUGIN_INVALID',
            `${this.sourceOf('check', c.id)}: check ${c.id} reads probe "${p}", which no built-in or plugin registers`,
          );
      }
    }
    for (const p of this.probeMap.values()) {
      for (const d of p.dependsOn ?? []) {
        if (!this.probeMap.has(d))
          throw new StarbenchError(
            'PLUGIN_INVALID',
            `${this.sourceOf('probe', p.id)}: probe ${p.id} depends on probe "${d}", which no built-in or plugin registers`,
          );
      }
    }
  }
}
