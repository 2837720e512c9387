/**
 * The shape of a data page: what lets starbench say that the page read after
 * a factory reset is the same page, now empty, and not a setup wizard, an
 * error page or a login page that happens to answer 200. Values are never
 * kept: only the media type, the structure (JSON keys, the HTML title and
 * form field names, the labels of "key: value" lines) and the labels that
 * stood right before each canary.
 */
import { z } from 'zod';

export const pageShapeSchema = z.object({
  /** "application/json", "text/html", … ; "text" for a shell or serial answer. */
  mediaType: z.string(),
  /** The structure: "key:owner", "title:Account", "field:email", "label:Wi-Fi SSID". */
  skeleton: z.array(z.string()),
  /** The label right before each canary value ("email", "owner_phone"): where the data sat. */
  anchors: z.array(z.string()),
  /** Of the labels asked about (those that held the data on the page read before), the ones this page still carries. */
  present: z.array(z.string()).optional(),
});
export type PageShape = z.infer<typeof pageShapeSchema>;

const MAX_ITEMS = 64;
const LABEL = /^\s*([A-Za-z][\w .-]{0,40}?)\s*[:=]/;

function cap(items: Iterable<string>): string[] {
  return [...new Set(items)].slice(0, MAX_ITEMS).sort();
}

function jsonSkeleton(text: string): string[] | null {
  try {
    const v: unknown = JSON.parse(text);
    if (Array.isArray(v)) return ['[array]'];
    if (v && typeof v === 'object') return Object.keys(v).map((k) => `key:${k}`);
    return ['[scalar]'];
  } catch {
    return null;
  }
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

/** The label before a value: the JSON key, the form field's name, the table cell or "key=" in front of it. */
function anchorBefore(text: string, index: number): string | null {
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  let before = text.slice(Math.max(lineStart, index - 160), index);
  // <input name="email" value="…  →  the field's name.
  const field = /\bname\s*=\s*["']?([\w.[\]-]{1,60})["']?[^<>]*\bvalue\s*=\s*["']?$/i.exec(before);
  if (field) return field[1];
  before = before.replace(/<[^>]*>/g, ' ').replace(/&nbsp;/g, ' ');
  const m = /([A-Za-z_][\w.-]{0,60})[\s"':=,>]*$/.exec(before);
  return m ? m[1] : null;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The shape of `text`; `lookFor` are labels from an earlier reading of the same channel, to say which are still there. */
export function pageShape(text: string, contentType: string | undefined, canaryValues: string[], lookFor: string[] = []): PageShape {
  const mediaType = (contentType ?? 'text').split(';')[0].trim().toLowerCase() || 'text';
  const json = mediaType.includes('json') || /^\s*[[{]/.test(text) ? jsonSkeleton(text) : null;
  const skeleton = json ?? (mediaType.includes('html') || /<html|<form|<body/i.test(text) ? htmlSkeleton(text) : textSkeleton(text));
  const anchors: string[] = [];
  for (const value of canaryValues) {
    for (const form of new Set([value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)])) {
      if (!form) continue;
      let i = text.indexOf(form);
      for (let n = 0; i >= 0 && n < 8; n++, i = text.indexOf(form, i + form.length)) {
        const a = anchorBefore(text, i);
        if (a) anchors.push(a);
      }
    }
  }
  const present = lookFor.filter((l) => new RegExp(`(^|[^\\w])${escape(l)}($|[^\\w])`).test(text));
  return { mediaType, skeleton: cap(skeleton), anchors: cap(anchors), ...(lookFor.length ? { present } : {}) };
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
  const still = new Set(after.present ?? []);
  const missingAnchors = before.anchors.filter((a) => !still.has(a));
  if (before.skeleton.length === 0) {
    if (before.anchors.length === 0)
      return { same: false, detail: 'the page has no structure or labels to compare, so it cannot be told apart from another page' };
    if (missingAnchors.length) return { same: false, detail: `the labels that held the data are gone (${missingAnchors.slice(0, 6).join(', ')})` };
  }
  return {
    same: true,
    detail: `same ${before.mediaType} page (${before.skeleton.length} structural item(s)${before.anchors.length ? `; fields that held the data: ${before.anchors.slice(0, 6).join(', ')}${missingAnchors.length ? ` — now absent: ${missingAnchors.slice(0, 6).join(', ')}` : ''}` : ''})`,
  };
}
