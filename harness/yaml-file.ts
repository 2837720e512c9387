/**
 * YAML files a person writes (device files, answers files): every problem is
 * named with the file, the line and the field, never a stack trace.
 */
import { LineCounter, isNode, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { StarbenchError, type ErrorCode } from './errors';

export function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const k of p) {
    if (typeof k === 'number') out += `[${k}]`;
    else out += out === '' ? String(k) : `.${String(k)}`;
  }
  return out || '(top level)';
}

export function lineOf(doc: Document, lines: LineCounter, p: readonly PropertyKey[]): number | undefined {
  // Walk up the path until a node exists: a missing field is reported at its parent.
  for (let n = p.length; n >= 0; n--) {
    const node = doc.getIn(p.slice(0, n) as unknown[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

export function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; check the spelling against \`starbench schema device\``;
  }
  if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
    return `is required (${issue.expected})`;
  }
  return issue.message;
}

export interface YamlText {
  doc: Document;
  lines: LineCounter;
  raw: unknown;
}

/** Parses YAML text (duplicate keys refused, aliases bounded); a problem is one `code` error naming file:line. */
export function readYaml(text: string, source: string, code: ErrorCode, maxAliases = 100): YamlText {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const line = lines.linePos(e.pos[0]).line;
    throw new StarbenchError(code, `${source}${line ? `:${line}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`, { cause: e });
  }
  try {
    return { doc, lines, raw: doc.toJS({ maxAliasCount: maxAliases }) };
  } catch (err) {
    throw new StarbenchError(code, `${source}: YAML aliases expand too far (more than ${maxAliases}); write the values out`, { cause: err });
  }
}

/** Validates parsed YAML with `schema`; the problems (at most 20 shown) are one `code` error, each naming file:line: field. */
export function validateYaml<S extends z.ZodType>(y: YamlText, source: string, schema: S, code: ErrorCode): z.output<S> {
  const parsed = schema.safeParse(y.raw);
  if (parsed.success) return parsed.data;
  const messages = parsed.error.issues.slice(0, 20).map((issue) => {
    const line = lineOf(y.doc, y.lines, issue.path);
    return `${source}${line ? `:${line}` : ''}: ${formatPath(issue.path)} ${describeIssue(issue)}`;
  });
  const more = parsed.error.issues.length > 20 ? `\n(${parsed.error.issues.length - 20} more problems)` : '';
  throw new StarbenchError(code, messages.join('\n') + more);
}
