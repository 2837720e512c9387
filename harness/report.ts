/**
 * report.json: the versioned contract other tools read. The zod schema is the
 * source of truth; `starbench schema report` prints it as JSON Schema and the
 * tests validate real output against that JSON Schema.
 */
import { destinationRowSchema } from './destination-row';
import { z } from 'zod';
import { declarationSchema } from './review';
import { VERDICTS } from './verdict';

export const REPORT_SCHEMA_VERSION = '1.0.0';

const verdict = z.enum(VERDICTS);

const finding = z.object({
  severity: z.enum(['high', 'medium', 'low', 'info']),
  message: z.string(),
  port: z.number().int().optional(),
  protocol: z.string().optional(),
});

const observation = z.object({
  kind: z.string(),
  port: z.number().int().optional(),
  protocol: z.string().optional(),
  summary: z.string(),
  data: z.record(z.string(), z.unknown()),
});

export const probeResultSchema = z.object({
  probe: z.string(),
  status: z.enum(['completed', 'skipped', 'failed', 'timed-out', 'cancelled', 'not-implemented']),
  reason: z.string().optional(),
  startedAt: z.string().optional(),
  durationMs: z.number(),
  observations: z.array(observation),
  evidence: z.array(z.string()),
});

export const checkResultSchema = z.object({
  id: z.string(),
  title: z.string(),
  verdict,
  rationale: z.string(),
  findings: z.array(finding),
  evidence: z.array(z.string()),
  fix: z.string().optional(),
  /** For a pass or not-applicable: the facts (probe and observation kind) it rests on, every one observed. */
  basis: z.array(z.object({ probe: z.string(), kind: z.string(), part: z.string().optional() })).optional(),
  /** The verdict per service ("tcp/443"), for a check that tests services one by one (resilience.network-load). */
  ports: z.record(z.string(), verdict).optional(),
});

const functionalResultSchema = z.object({ verdict, checks: z.array(z.string()), rationale: z.string() });

/** One target's walk of a requirement's decision tree, with its three assessments. */
export const targetAssessmentSchema = z.object({
  target: z.object({ per: z.enum(['asset', 'mechanism', 'interface', 'device']), id: z.string(), title: z.string().optional(), kind: z.string().optional() }),
  path: z.array(
    z.object({
      node: z.string(),
      ask: z.string(),
      answer: z.enum(['yes', 'no', 'unknown']),
      source: z.enum(['device-file', 'check', 'reviewer', 'none']),
      ref: z.string().optional(),
      justification: z.string().optional(),
    }),
  ),
  leaf: z.enum(['pass', 'fail', 'not-applicable']).optional(),
  conceptual: verdict,
  completeness: functionalResultSchema.optional(),
  sufficiency: functionalResultSchema.optional(),
  verdict,
  justification: z.string().optional(),
  rationale: z.string(),
});

export const requirementResultSchema = z.object({
  id: z.string(),
  title: z.object({ ja: z.string().optional(), en: z.string() }),
  verdict,
  checks: z.array(z.string()),
  level: z.enum(['mandatory', 'recommended']),
  assessedBy: z.enum(['device', 'document', 'both']),
  confidence: z.enum(['confirmed', 'secondary', 'tentative']),
  source: z.string().optional(),
  rationale: z.string(),
  reviewerPrompt: z.string().optional(),
  supplementary: z.boolean().optional(),
  /** The same requirement in other catalogs: profile id → requirement ids. */
  crossRefs: z.record(z.string(), z.array(z.string())).optional(),
  conditional: z.boolean().optional(),
  /** Evidence of kind `declaration` (reviewer answers, routes) the row also rests on, each with its reference. */
  declarations: z.array(declarationSchema).optional(),
  /** When the row has declarations: the verdict of its checks alone, so both show. */
  deviceVerdict: verdict.optional(),
  /** Decision-tree rows (EN 18031): one assessment per asset, mechanism or interface walked. */
  assessments: z.array(targetAssessmentSchema).optional(),
  /** An Official Journal restriction: self-assessment gives no presumption of conformity; a notified body is needed. */
  notifiedBody: z.string().optional(),
});

export const reportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  tool: z.object({ name: z.literal('starbench'), version: z.string() }),
  run: z.object({
    id: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number(),
    /** True when the run was interrupted or hit its deadline before every probe finished. */
    incomplete: z.boolean(),
    interruptedBy: z.enum(['signal', 'deadline']).optional(),
    /** When the report was re-judged from saved observations (`starbench report`). */
    rejudgedAt: z.string().optional(),
    /** When an interrupted run was finished by `starbench resume`. */
    resumedAt: z.string().optional(),
    /** Probes that had begun before the run was interrupted and ran again on resume (their first try left no result). */
    repeated: z.array(z.string()).optional(),
    /** Peak resident memory of the process that ran the probes, KiB. */
    peakRssKb: z.number().optional(),
  }),
  device: z.object({
    name: z.string(),
    model: z.string().optional(),
    host: z.string(),
    firmware: z.object({ declared: z.string().optional(), observed: z.string().optional() }),
  }),
  profile: z.object({ id: z.string(), title: z.string(), scheme: z.string().optional(), version: z.string().optional() }),
  summary: z.object({
    verdict,
    counts: z.object(Object.fromEntries(VERDICTS.map((v) => [v, z.number().int()])) as Record<(typeof VERDICTS)[number], z.ZodNumber>),
    exitCode: z.number().int(),
    /** complete: every device-test requirement of the profile was assessed; incomplete: some were not tested (--only, skipped probes, no check yet) — never a pass. */
    status: z.enum(['complete', 'incomplete']).optional(),
    /** The device-test requirements that were not tested. */
    untested: z.array(z.string()).optional(),
  }),
  requirements: z.array(requirementResultSchema),
  checks: z.array(checkResultSchema),
  observations: z.record(z.string(), probeResultSchema),
  scope: z.object({
    target: z.string(),
    serial: z.string().optional(),
    connectionLimit: z.number().int(),
    notAttempted: z.array(z.object({ what: z.string(), why: z.string() })),
  }),
  errors: z.array(z.object({ where: z.string(), message: z.string() })),
  /** Where the device itself connected during the traffic watch (the traffic probe): one row per destination. */
  destinations: z.array(destinationRowSchema).optional(),
  /** The device's lockout ledger: failed logins counted per group, lock signals, and every wait for the lab credential to work again. */
  authLedger: z
    .object({
      groups: z.array(
        z.object({
          id: z.string(),
          ports: z.array(z.number()),
          failures: z.number(),
          declaredAfter: z.number().optional(),
          learnedAfter: z.number().optional(),
          lockSignals: z.array(z.object({ at: z.string(), port: z.number(), detail: z.string(), retryAfterS: z.number().optional() })),
        }),
      ),
      waits: z.array(
        z.object({ group: z.string(), port: z.number(), purpose: z.string(), waitedMs: z.number(), why: z.string(), ok: z.boolean(), signalled: z.boolean() }),
      ),
    })
    .optional(),
});

export type Report = z.infer<typeof reportSchema>;
export type RequirementResult = z.infer<typeof requirementResultSchema>;

export function reportJsonSchema(): object {
  return z.toJSONSchema(reportSchema, { target: 'draft-2020-12', io: 'output' });
}
