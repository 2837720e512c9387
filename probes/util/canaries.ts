/** Finding the device file's personal-data canaries in what a device says, without ever keeping the value. */
import type { DeviceFile } from '../../harness/device-file/schema';

/** The core of `value`'s base64 at each of the three byte alignments it can take inside a longer encoded string. */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length < 6) return [];
  return [0, 1, 2].map((k) => {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Drop the first group when it mixes in the prefix, and the last group (padding or the next bytes).
    return enc.slice(k ? 4 : 0, enc.length - 4);
  });
}

/** Numeric and the commonest named HTML character references (a page may write "@" as "&#64;"). */
function decodeEntities(text: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", commat: '@', period: '.', lowbar: '_', hyphen: '-', nbsp: ' ' };
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (m, e: string) => {
    if (e[0] !== '#') return named[e.toLowerCase()] ?? m;
    const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
    return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
  });
}

/**
 * The forms a value is looked for in: as is, URL- and JSON-escaped (\uXXXX too), hex (either case), base64 and
 * base64url at any alignment, and a non-ASCII value's UTF-8 bytes read as Latin-1 (how a channel decoded byte by
 * byte shows 山田花子).
 */
export function canaryForms(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const hex = bytes.toString('hex');
  const b64 = base64Cores(value);
  const asLatin1 = bytes.toString('latin1');
  const jsonAscii = value.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return [
    ...new Set([
      value,
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
      jsonAscii,
      hex,
      hex.toUpperCase(),
      ...b64,
      ...b64.map((c) => c.replace(/\+/g, '-').replace(/\//g, '_')),
      asLatin1,
    ]),
  ].filter(Boolean);
}

/** Categories whose canary appears in `text`: as is, escaped, encoded (hex, base64) or written with HTML character references. */
export function canariesIn(device: DeviceFile, text: string): string[] {
  const found: string[] = [];
  const decoded = text.includes('&') ? decodeEntities(text) : text;
  for (const [category, value] of Object.entries(device.personalData?.canaries ?? {})) {
    const forms = canaryForms(value);
    if (forms.some((f) => text.includes(f) || (decoded !== text && decoded.includes(f)))) found.push(category);
  }
  return found;
}
