/**
 * Evidence of kind `declaration`: what a requirement row rests on when it is
 * not (only) a device test. Two sources, both shown in the report with their
 * reference, never silently:
 *
 * - a **reviewer answer**: a person read the manufacturer's documents (or did
 *   a step by hand) and recorded met / not-met / not-applicable with the
 *   document and section it rests on. Answers live in the device file
 *   (`review:`) or in an answers file given to `starbench report --answers`.
 * - a **route**: the catalog says a declaration deems the row met (JC-STAR ★1
 *   accepts a UK PSTI statement of compliance for S1.1-02, -05 and -16), and
 *   the device file carries that declaration's reference.
 *
 * A declaration never outranks the device: where a check of the same row
 * fails, the row fails and shows both.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { dottedValue } from './dotted';
import { errorMessage, StarbenchError } from './errors';
import { worst, type Verdict } from './verdict';
import { decisionSchema } from './decision-tree';
import { readYaml, validateYaml } from './yaml-file';

export const REVIEW_RESULTS = ['met', 'not-met', 'not-applicable'] as const;
export type ReviewResult = (typeof REVIEW_RESULTS)[number];

const text = z.string().trim().min(1, 'must not be empty');
const day = z
  .union([z.string(), z.date()])
  .transform((d) => (d instanceof Date ? d.toISOString().slice(0, 10) : d))
  .optional();

export const reviewAnswerSchema = z.strictObject({
  profile: z.string().regex(/^[a-z0-9-]+$/, 'must be a profile id (jc-star-1, etsi-en-303-645, …)'),
  requirement: text,
  result: z.enum(REVIEW_RESULTS),
  reference: text.describe('the document, section or record the answer rests on'),
  reviewer: text.optional(),
  date: day,
  note: z.string().optional(),
});
export type ReviewAnswer = z.output<typeof reviewAnswerSchema>;

export const reviewFileSchema = z.strictObject({
  answers: z.array(reviewAnswerSchema).max(5000).default([]),
  /** Answers to decision-tree nodes (EN 18031), per requirement and asset, mechanism or interface. */
  decisions: z.array(decisionSchema).max(20000).default([]),
});
export type ReviewFile = z.output<typeof reviewFileSchema>;

/** The parts of a catalog this module reads (kept structural: profile.ts imports this module). */
interface Catalog {
  id: string;
  requirements: ReadonlyArray<{ id: string }>;
}
interface Row {
  id: string;
  routes?: ReadonlyArray<z.output<typeof routeSchema>>;
}

/** A route in a catalog: a declaration the scheme accepts as meeting the row. */
export const routeSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/),
  /** Dotted path in the device file of the declaration's reference (`documentation.pstiStatement`). */
  field: z.string().min(1),
  title: z.strictObject({ en: z.string().min(1), ja: z.string().optional() }),
  source: z.string().optional(),
});

export const declarationSchema = z.object({
  kind: z.literal('declaration'),
  source: z.enum(['reviewer', 'route']),
  result: z.enum(REVIEW_RESULTS),
  reference: z.string(),
  reviewer: z.string().optional(),
  date: z.string().optional(),
  note: z.string().optional(),
  /** For a route: its id and title. */
  route: z.string().optional(),
  title: z.string().optional(),
});
export type Declaration = z.infer<typeof declarationSchema>;

/** An answers file (`starbench report --answers FILE`), validated with a clear error naming file:line: field. */
export function loadReviewFile(file: string): ReviewFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StarbenchError('REVIEW_INVALID', `${file}: cannot read the answers file: ${errorMessage(err)}`);
  }
  const parsed = validateYaml(readYaml(text, file, 'REVIEW_INVALID'), file, reviewFileSchema, 'REVIEW_INVALID');
  // Two answers to one node that disagree: the file does not say which stands.
  const seen = new Map<string, number>();
  parsed.decisions.forEach((d, i) => {
    const key = [d.profile ?? '*', d.requirement, d.target, d.node].join('\u0000');
    const first = seen.get(key);
    if (first !== undefined && parsed.decisions[first].answer !== d.answer)
      throw new StarbenchError(
        'REVIEW_INVALID',
        `${file}: decisions[${i}] answers ${d.requirement} ${d.node} for ${d.target} ${d.answer}, decisions[${first}] ${parsed.decisions[first].answer}: keep one`,
      );
    seen.set(key, i);
  });
  return parsed;
}

/** An answer for this profile that names a requirement it does not have is a typo, refused before any run. */
export function checkAnswers(profile: Catalog, answers: readonly ReviewAnswer[], where: string): void {
  const ids = new Set(profile.requirements.map((r) => r.id));
  const wrong = answers.filter((a) => a.profile === profile.id && !ids.has(a.requirement));
  if (wrong.length) {
    throw new StarbenchError(
      'REVIEW_INVALID',
      `${where}: ${wrong.map((a) => `"${a.requirement}"`).join(', ')} ${wrong.length === 1 ? 'is not a requirement' : 'are not requirements'} of ${profile.id} (it has ${[...ids].join(', ')})`,
    );
  }
}

/** The declarations of one row: its reviewer answers for this profile, and each route the device file fills. */
export function declarationsFor(profile: Catalog, r: Row, answers: readonly ReviewAnswer[], device: unknown): Declaration[] {
  const out: Declaration[] = answers
    .filter((a) => a.profile === profile.id && a.requirement === r.id)
    .map((a) => ({ kind: 'declaration', source: 'reviewer', result: a.result, reference: a.reference, reviewer: a.reviewer, date: a.date, note: a.note }));
  for (const route of r.routes ?? []) {
    const ref = dottedValue(device, route.field);
    if (typeof ref === 'string' && ref.trim() !== '') {
      out.push({ kind: 'declaration', source: 'route', result: 'met', reference: ref.trim(), route: route.id, title: route.title.en });
    }
  }
  return out;
}

const AS_VERDICT: Record<ReviewResult, Verdict> = { met: 'pass', 'not-met': 'fail', 'not-applicable': 'not-applicable' };

/**
 * A row's verdict from its checks and its declarations. A route deems the
 * row met unless a check or a reviewer says it is not; reviewer answers
 * count as one more verdict beside the checks (worst wins); with neither,
 * the row is the worst of its checks, as before.
 */
export function rowVerdict(checkVerdicts: readonly Verdict[], decl: readonly Declaration[]): Verdict {
  const reviewed = decl.filter((d) => d.source === 'reviewer').map((d) => AS_VERDICT[d.result]);
  const routed = decl.some((d) => d.source === 'route');
  if (routed) return [...checkVerdicts, ...reviewed].includes('fail') ? 'fail' : 'pass';
  return worst([...checkVerdicts, ...reviewed]);
}

/** One line per declaration, for the row's rationale. */
export function describeDeclarations(decl: readonly Declaration[]): string {
  return decl
    .map((d) =>
      d.source === 'route'
        ? `met by the ${d.title ?? d.route} route (${d.reference})`
        : `document review: ${d.result} (${d.reference}${d.reviewer ? `, ${d.reviewer}` : ''}${d.date ? `, ${d.date}` : ''})`,
    )
    .join('; ');
}
