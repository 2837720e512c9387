/** Cipher suites by code, and why one is weak. */
import table from './cipher-suites.json';

export interface Suite {
  code: number;
  name: string;
  since: string;
  kx: string;
  au: string;
  enc: string;
  mac: string;
}

export const SUITES: Suite[] = table.suites;
const BY_CODE = new Map(SUITES.map((s) => [s.code, s]));

export function suiteName(code: number): string {
  return BY_CODE.get(code)?.name ?? `0x${code.toString(16).padStart(4, '0')}`;
}

/** Suites a ClientHello of this version may offer. */
export function suitesFor(version: string): number[] {
  if (version === 'TLSv1.3') return SUITES.filter((s) => s.since === 'TLSv1.3').map((s) => s.code);
  const allowed = version === 'TLSv1.2' ? ['SSLv3', 'TLSv1', 'TLSv1.2'] : ['SSLv3', 'TLSv1'];
  return SUITES.filter((s) => allowed.includes(s.since)).map((s) => s.code);
}

/** Why a suite is weak, or null. The classes are those comms.tls fails on. */
export function weakness(code: number): string | null {
  const s = BY_CODE.get(code);
  if (!s) return null;
  if (s.enc === 'None') return 'NULL encryption';
  if (s.au === 'None') return 'anonymous (no authentication)';
  if (/^EXP/.test(s.name) || /\((40|56)\)$/.test(s.enc) || /\(512\)/.test(s.kx)) return 'EXPORT-grade';
  if (/^RC4/.test(s.enc)) return 'RC4';
  if (/^(3?DES|RC2|IDEA)/.test(s.enc)) return `${s.enc.replace(/\(.*/, '')} (64-bit block cipher)`;
  if (s.mac === 'MD5') return 'MD5 MAC';
  if (s.mac === 'SHA1' && s.enc !== 'AEAD') return 'CBC with SHA-1';
  return null;
}
