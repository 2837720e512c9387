/**
 * Profiles are requirement catalogs as data (profiles/*.yaml), validated here
 * when loaded. Code never hard-codes a scheme's requirements.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { dottedValue } from './dotted';
import { StarbenchError } from './errors';
import { formatPath } from './device-file/load';
import { routeSchema } from './review';
import { functionalSchema, treeSchema } from './decision-tree';
import { PACKAGE_ROOT } from './package-root';

export const CONFIDENCE = ['confirmed', 'secondary', 'tentative'] as const;

const requirementSchema = z.strictObject({
  id: z.string().min(1),
  title: z.strictObject({ en: z.string().min(1), ja: z.string().optional() }),
  level: z.enum(['mandatory', 'recommended']),
  assessedBy: z.enum(['device', 'document', 'both']),
  checks: z.array(z.string()).default([]),
  confidence: z.enum(CONFIDENCE),
  source: z.string().optional(),
  /** What a reviewer looks for when no automated check covers it. */
  reviewerPrompt: z.string().optional(),
  crossRefs: z.record(z.string(), z.array(z.string())).optional(),
  /** Not a requirement of the scheme itself: checks grouped under a theme whose requirement id is not confirmed. */
  supplementary: z.boolean().optional(),
  /** The requirement applies only when its condition holds (EN 303 645 "conditional"). */
  conditional: z.boolean().optional(),
  /** ETSI TS 103 701 has a functional test case for it. */
  functionalTest: z.boolean().optional(),
  /** How far it can be automated: A network, P partly (operator, firmware, power), D documents only. */
  automatable: z.string().optional(),
  /** Declarations the scheme accepts as meeting this row (harness/review.ts). */
  routes: z.array(routeSchema).optional(),
  /** A decision tree walked per asset, mechanism or interface (EN 18031); the row's verdict is the worst over its targets. */
  tree: treeSchema.optional(),
  /** The functional completeness assessment: false when the standard marks it not necessary; else its checks (none: a reviewer). */
  completeness: functionalSchema.optional(),
  /** The functional sufficiency assessment, likewise. */
  sufficiency: functionalSchema.optional(),
  /** Why self-assessment gives no presumption of conformity for this row (an Official Journal restriction): a notified body is needed. */
  notifiedBody: z.string().optional(),
});

export const profileSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  title: z.string().min(1),
  scheme: z.string().min(1),
  version: z.string().optional(),
  source: z.string().optional(),
  note: z.string().optional(),
  requirements: z.array(requirementSchema).min(1),
});

export type Profile = z.output<typeof profileSchema>;
export type Requirement = Profile['requirements'][number];

export const PROFILE_DIR = path.join(PACKAGE_ROOT, 'profiles');

export function parseProfile(text: string, source: string): Profile {
  const parsed = profileSchema.safeParse(parse(text));
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${source}: ${formatPath(i.path)} ${i.message}`).join('\n');
    throw new StarbenchError('PROFILE_INVALID', msg);
  }
  return parsed.data;
}

export function listProfiles(dir = PROFILE_DIR): Profile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => parseProfile(readFileSync(path.join(dir, f), 'utf8'), f));
}

/** A built-in catalog by id, or a lab's own catalog file (`--profile ./our-catalog.yaml`), validated like the built-ins. */
export function loadProfile(id: string, dir = PROFILE_DIR): Profile {
  if (/\.ya?ml$/i.test(id) || id.includes('/')) {
    let text: string;
    try {
      text = readFileSync(id, 'utf8');
    } catch (err) {
      throw new StarbenchError('PROFILE_UNKNOWN', `cannot read catalog file ${id}: ${(err as Error).message}`, { cause: err });
    }
    return parseProfile(text, path.resolve(id));
  }
  const found = listProfiles(dir).find((p) => p.id === id);
  if (!found) {
    const known = listProfiles(dir)
      .map((p) => p.id)
      .join(', ');
    throw new StarbenchError('PROFILE_UNKNOWN', `unknown profile "${id}"; known profiles: ${known} (starbench list profiles)`);
  }
  return found;
}

export const DEFAULT_PROFILE = 'jc-star-1';

const NOT_DECLARED = 'not declared';

/**
 * A reviewer prompt with the device file's declarations filled in:
 * "{documentation.vulnerabilityDisclosure}" becomes the declared URL, or
 * "not declared" — so the reviewer sees what to open, or that it is missing.
 */
export function fillPrompt(prompt: string, device: unknown): string {
  return prompt.replace(/\{([a-zA-Z]+(?:\.[a-zA-Z]+)+)\}/g, (_m, dotted: string) => {
    const cur = dottedValue(device, dotted);
    if (Array.isArray(cur)) return cur.length ? cur.join(', ') : NOT_DECLARED;
    if (typeof cur === 'string' || typeof cur === 'number') return String(cur);
    return NOT_DECLARED;
  });
}
