/** Credential dictionaries shipped as data under probes/data/. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../harness/package-root';

export interface DictionaryEntry {
  list: string;
  /** 1-based position in the list file (comment lines not counted). */
  entry: number;
  username: string;
  password: string;
  /** Where the list says the pair comes from (the "# source:" comment above it). */
  source?: string;
}

export function parseCredentialList(text: string, list: string): DictionaryEntry[] {
  const out: DictionaryEntry[] = [];
  const seen = new Set<string>();
  let n = 0;
  let source: string | undefined;
  for (const line of text.split(/\r?\n/)) {
    const s = /^#\s*source:\s*(.+)$/.exec(line);
    if (s) source = s[1].trim();
    if (!line.trim() || line.startsWith('#')) continue;
    n += 1;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const username = line.slice(0, i);
    const password = line.slice(i + 1);
    const key = `${username}\0${password}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ list, entry: n, username, password, ...(source ? { source } : {}) });
  }
  return out;
}

const DATA_DIR = path.join(PACKAGE_ROOT, 'probes', 'data');

export function miraiList(): DictionaryEntry[] {
  return parseCredentialList(readFileSync(path.join(DATA_DIR, 'mirai-credentials.txt'), 'utf8'), 'Mirai');
}

/** Factory defaults of IoT devices and embedded images, each with its source (probes/data/vendor-credentials.txt). */
export function vendorList(): DictionaryEntry[] {
  return parseCredentialList(readFileSync(path.join(DATA_DIR, 'vendor-credentials.txt'), 'utf8'), 'vendor');
}

/** Every password on the lists starbench ships: public knowledge, not secrets. */
export function publicPasswords(): Set<string> {
  return new Set([...miraiList(), ...vendorList()].map((e) => e.password));
}

/** The dictionary for one device: its declared factory defaults first, then the Mirai list, then the vendor list; each pair once. */
export function dictionaryFor(declared: ReadonlyArray<{ username: string; password: string }>): DictionaryEntry[] {
  const own = declared.map((d, i) => ({ list: 'declared default', entry: i + 1, username: d.username, password: d.password }));
  const seen = new Set<string>();
  return [...own, ...miraiList(), ...vendorList()].filter((e) => {
    const key = `${e.username}\0${e.password}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
