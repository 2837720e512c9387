/**
 * The shape of a data page: what lets starbench say that the page read after
 * a factory reset is the same page, now empty, and not a setup wizard, an
 * error page or a login page that happens to answer 200. Values are never
 * kept: only the media type, the structure (JSON keys, the HTML title and
 * form field names, the labels of "key: value" lines) and where each canary
 * sat (its JSON key path, its form field, the word before it, its topic).
 * The page after a reset is the same page when all of those are still there.
 */
import { z } from 'zod';

export const pageShapeSchema = z.object({
  /** "application/json", "text/html", … ; "text" for a shell or serial answer. */
  mediaType: z.string(),
  /** The structure: "key:owner" (top-level JSON keys), "title:Account", "field:email", "label:Wi-Fi SSID". */
  skeleton: z.array(z.string()),
  /**
   * Where each canary value sat: "json:data.owner.email" (its key path), "field:email" (the form field),
   * "text:e-mail</td><td>" (the last word before it on its line), "topic:cam/owner" (an MQTT topic).
   */
  anchors: z.array(z.string()),
  /** Of the anchors asked about (those of the page read before), the ones this page still has in place. */
  present: z.array(z.string()).optional(),
  /** Of those in place, the ones that still hold a value (any value: the data may be there in another form). */
  filled: z.array(z.string()).optional(),
});
export type PageShape = z.infer<typeof pageShapeSchema>;

const MAX_ITEMS = 64;
const LABEL = /^\s*([A-Za-z][\w .-]{0,40}?)\s*[:=]/;

function cap(items: Iterable<string>): string[] {
  return [...new Set(items)].slice(0, MAX_ITEMS).sort();
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function jsonSkeleton(v: unknown): string[] {
  if (Array.isArray(v)) return ['[array]'];
  if (v && typeof v === 'object') return Object.keys(v).map((k) => `key:${k}`);
  return ['[scalar]'];
}

/** Every key path of a JSON value ("data.owner.email", arrays as "users[]"), the paths whose string holds one of `values`, and those holding any value. */
function jsonPaths(v: unknown, values: string[], at = '', out = { all: new Set<string>(), holding: new Set<string>(), filled: new Set<string>() }, depth = 0) {
  if (depth > 12 || out.all.size > 2000) return out;
  if (Array.isArray(v)) for (const x of v.slice(0, 200)) jsonPaths(x, values, `${at}[]`, out, depth + 1);
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      const p = at ? `${at}.${k}` : k;
      out.all.add(p);
      jsonPaths(x, values, p, out, depth + 1);
    }
  else {
    if (typeof v === 'string' && values.some((c) => c && v.includes(c))) out.holding.add(at);
    // Filled: this path and every path above it (an object or list put where the string was still holds something).
    if ((typeof v === 'string' && v.trim() !== '') || typeof v === 'number')
      for (let p = at; p; p = p.replace(/(\.[^.]*|\[\])$/, '')) {
        out.filled.add(p);
        if (!/(\.[^.]*|\[\])$/.test(p)) break;
      }
  }
  return out;
}

function htmlSkeleton(text: string): string[] {
  const out: string[] = [];
  const title = /<title[^>]*>([^<]{0,120})<\/title>/i.exec(text)?.[1]?.trim();
  if (title) out.push(`title:${title}`);
  for (const m of text.matchAll(/<(?:input|select|textarea)\b[^>]*\bname\s*=\s*["']?([\w.[\]-]{1,60})/gi)) out.push(`field:${m[1]}`);
  return out;
}

function textSkeleton(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split(/\r?\n/).slice(0, 2000)) {
    const m = LABEL.exec(line);
    if (m) out.push(`label:${m[1].trim()}`);
  }
  return out;
}

/**
 * Where a value sat, in a form that can be looked for on another page: the
 * form field's name (`field:email`), or the exact text before it on its line
 * (`text:<td>Owner e-mail</td><td>`, `text:email=`).
 */
function anchorBefore(text: string, index: number, forms: string[]): string | null {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  let before = text.slice(Math.max(lineStart, index - 40), index);
  // <input name="email" value="…  →  the field's name.
  const field = /\bname\s*=\s*["']?([\w.[\]-]{1,60})["']?[^<>]*\bvalue\s*=\s*["']?$/i.exec(text.slice(Math.max(lineStart, index - 160), index));
  if (field) return `field:${field[1]}`;
  // The literal text before the value on its line, not reaching back into another value.
  for (const f of forms) {
    const j = before.lastIndexOf(f);
    if (j >= 0) before = before.slice(j + f.length);
  }
  // Only the last word and what follows it ("e-mail</td><td>", "Email: "): nothing of an earlier value (a password) on the line is kept.
  before = before.replace(/^[\s\S]*\s(?=\S)/, '');
  // Inside a tag with no field name (an unnamed <input value="…">): an attribute locates nothing.
  const line = text.slice(lineStart, index);
  if (line.lastIndexOf('<') > line.lastIndexOf('>')) return null;
  // Markup alone (<td>) is on every table row: a label word must be part of it.
  return /[A-Za-z]{2}/.test(before.replace(/<[^>]*>/g, '')) ? `text:${before}` : null;
}

/** The values of the form fields named `name` (an input's value attribute, a textarea's text). */
/** An <input> tag's value attribute ('' when it has none); `data-value` and the like are not it. */
export function inputValue(tag: string): string {
  const v = /\svalue\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(tag);
  return v ? (v[1] ?? v[2] ?? v[3] ?? '') : '';
}

function fieldValues(text: string, name: string): string[] {
  const esc = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const out: string[] = [];
  for (const m of text.matchAll(new RegExp(`<input\\b[^>]*\\bname\\s*=\\s*["']?${esc}["']?[^>]*>`, 'gi'))) out.push(inputValue(m[0]));
  for (const m of text.matchAll(new RegExp(`<textarea\\b[^>]*\\bname\\s*=\\s*["']?${esc}["']?[^>]*>([^<]*)`, 'gi'))) out.push(m[1]);
  return out;
}

/** What follows each place `anchor` stands, up to the end of its line or table row, with tags taken out, trimmed. */
function textAfter(text: string, anchor: string): string[] {
  const out: string[] = [];
  for (let i = text.indexOf(anchor), n = 0; i >= 0 && n < 16; i = text.indexOf(anchor, i + anchor.length), n++) {
    // Up to the end of the cell, paragraph, item or row the value stood in (a minified page is one line).
    const rest = /^[^\r\n]*/.exec(text.slice(i + anchor.length))![0].split(/<\/(?:td|th|tr|p|div|li|dd|span|label|pre)>|<(?:tr|br|td|th|p|div|li)\b/i)[0];
    out.push(rest.replace(/<[^>]*>/g, ' ').trim());
  }
  return out;
}

/** The shape of `text`; `lookFor` are anchors from an earlier reading of the same channel, to say which are still in place. */
export function pageShape(text: string, contentType: string | undefined, canaryValues: string[], lookFor: string[] = []): PageShape {
  const mediaType = (contentType ?? 'text').split(';')[0].trim().toLowerCase() || 'text';
  const json = mediaType.includes('json') || /^\s*[[{]/.test(text) ? parseJson(text) : undefined;
  const forms = canaryValues.flatMap((v) => [...new Set([v, JSON.stringify(v).slice(1, -1), encodeURIComponent(v)])]).filter(Boolean);
  let skeleton: string[];
  const anchors: string[] = [];
  let has: (anchor: string) => boolean;
  let filled: (anchor: string) => boolean;
  if (json !== undefined) {
    skeleton = jsonSkeleton(json);
    const paths = jsonPaths(json, forms);
    for (const p of paths.holding) anchors.push(`json:${p}`);
    has = (a) => a.startsWith('json:') && paths.all.has(a.slice(5));
    filled = (a) => paths.filled.has(a.slice(5));
  } else {
    const html = mediaType.includes('html') || /<html|<form|<body/i.test(text);
    skeleton = html ? htmlSkeleton(text) : textSkeleton(text);
    for (const form of forms) {
      let i = text.indexOf(form);
      for (let n = 0; i >= 0 && n < 8; n++, i = text.indexOf(form, i + form.length)) {
        const a = anchorBefore(text, i, forms);
        if (a) anchors.push(a);
      }
    }
    const fields = new Set(htmlSkeleton(text).filter((x) => x.startsWith('field:')));
    has = (a) => (a.startsWith('field:') ? fields.has(a) : a.startsWith('text:') ? text.includes(a.slice(5)) : false);
    filled = (a) => (a.startsWith('field:') ? fieldValues(text, a.slice(6)).some((v) => v.trim() !== '') : textAfter(text, a.slice(5)).some((v) => v !== ''));
  }
  const present = lookFor.filter(has);
  return {
    mediaType,
    skeleton: cap(skeleton),
    anchors: cap(anchors),
    ...(lookFor.length ? { present, filled: present.filter(filled) } : {}),
  };
}

/** An MQTT read-back's shape: the topics, and those that held the data. */
export function topicShape(topics: Map<string, string[]>, lookFor: string[] = []): PageShape {
  const anchors = [...topics].filter(([, c]) => c.length).map(([t]) => `topic:${t}`);
  const present = lookFor.filter((a) => a.startsWith('topic:') && topics.has(a.slice(6)));
  return { mediaType: 'mqtt', skeleton: [], anchors: cap(anchors), ...(lookFor.length ? { present } : {}) };
}

export interface ShapeComparison {
  same: boolean;
  /** Why the page is, or is not, the same page. */
  detail: string;
}

/**
 * Is `after` the page `before` was, with the data gone? Same media type; the
 * structure seen before still there (keys, title, fields, labels); and the
 * labels that held the canaries still there — or, for a page whose structure
 * holds (a JSON list emptied), the structure alone.
 */
export function sameShape(before: PageShape, after: PageShape): ShapeComparison {
  if (before.mediaType !== after.mediaType) return { same: false, detail: `the answer changed type (${before.mediaType} before, ${after.mediaType} after)` };
  const missingSkeleton = before.skeleton.filter((s) => !after.skeleton.includes(s));
  if (missingSkeleton.length)
    return { same: false, detail: `the page no longer has the structure it had (missing: ${missingSkeleton.slice(0, 6).join(', ')})` };
  if (before.anchors.length === 0)
    return { same: false, detail: 'nothing on the page locates where the data sat, so the page read after cannot be told apart from another page' };
  const still = new Set(after.present ?? []);
  const missing = before.anchors.filter((a) => !still.has(a));
  if (missing.length) return { same: false, detail: `the places that held the data are gone (${missing.slice(0, 6).map(show).join(', ')})` };
  // "Empty" is part of the claim: a place that still holds something may hold the data in another form.
  const held = after.filled ?? [];
  if (held.length)
    return {
      same: false,
      detail: `the places that held the data still hold a value (${held.slice(0, 6).map(show).join(', ')}): it may be the data in another form`,
    };
  return {
    same: true,
    detail: `same ${before.mediaType} page, the places that held the data still there and empty (${before.anchors.slice(0, 6).map(show).join(', ')})`,
  };
}

/** An anchor as the report shows it. */
function show(anchor: string): string {
  const [kind, ...rest] = anchor.split(':');
  const v = rest.join(':');
  return kind === 'text' ? JSON.stringify(v) : kind === 'json' ? `JSON ${v}` : kind === 'field' ? `form field ${v}` : `topic ${v}`;
}
