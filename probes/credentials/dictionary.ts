/** Credential dictionaries shipped as data under probes/data/. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface DictionaryEntry {
  list: string;
  /** 1-based position in the list file (comment lines not counted). */
  entry: number;
  username: string;
  password: string;
}

export function parseCredentialList(text: string, list: string): DictionaryEntry[] {
  const out: DictionaryEntry[] = [];
  const seen = new Set<string>();
  let n = 0;
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim() || line.startsWith('#')) continue;
    n += 1;
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const username = line.slice(0, i);
    const password = line.slice(i + 1);
    const key = `${username}\0${password}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ list, entry: n, username, password });
  }
  return out;
}

const DATA_DIR = path.resolve(__dirname, '..', 'data');

export function miraiList(): DictionaryEntry[] {
  return parseCredentialList(readFileSync(path.join(DATA_DIR, 'mirai-credentials.txt'), 'utf8'), 'Mirai');
}

/** Every password on the lists starbench ships: public knowledge, not secrets. */
export function publicPasswords(): Set<string> {
  return new Set(miraiList().map((e) => e.password));
}

/** The dictionary for one device: its declared factory defaults first, then the Mirai list. */
export function dictionaryFor(declared: ReadonlyArray<{ username: string; password: string }>): DictionaryEntry[] {
  const own = declared.map((d, i) => ({ list: 'declared default', entry: i + 1, username: d.username, password: d.password }));
  const seen = new Set(own.map((e) => `${e.username}\0${e.password}`));
  return [...own, ...miraiList().filter((e) => !seen.has(`${e.username}\0${e.password}`))];
}
