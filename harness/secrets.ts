/**
 * Every credential and canary from the device file is a secret: logs, reports,
 * journal and evidence show it masked unless the operator opts out.
 */
import type { DeviceFile } from './device-file/schema';

export const MASK = '••••';

/**
 * In a run folder: a credential the device may still hold after a credential change that was not undone
 * (probes/credential-change.ts), kept mode 600 for `resume`. Never evidence, never bundled or signed.
 */
export const SECRETS_FILE = 'secrets.json';

export class SecretRegistry {
  private values = new Set<string>();
  constructor(readonly reveal = false) {}

  add(value: string | undefined): void {
    // Very short values would mask ordinary words ("1", "ok"); they are still
    // masked where they appear as a whole field (see maskDeep's key rules).
    if (value !== undefined && value.length >= 3) {
      this.values.add(value);
      // As it appears once encoded: in a URL or a form body (a credential change's filled action), or JSON-escaped.
      for (const v of [encodeURIComponent(value), JSON.stringify(value).slice(1, -1)]) if (v !== value) this.values.add(v);
      this.pattern = undefined;
    }
  }

  static fromDevice(device: DeviceFile, reveal = false, publicValues: ReadonlySet<string> = new Set()): SecretRegistry {
    const reg = new SecretRegistry(reveal);
    // A lab password that is itself a published default ("admin") is no
    // secret, and masking the word everywhere would garble paths and user
    // names; findings never print passwords anyway.
    for (const c of Object.values(device.credentials)) if (c.password === undefined || !publicValues.has(c.password)) reg.add(c.password);
    for (const v of Object.values(device.personalData?.canaries ?? {})) reg.add(v);
    for (const v of Object.values(device.traffic?.secrets ?? {})) reg.add(v);
    for (const a of device.auth) if (a.factoryPassword !== undefined && !publicValues.has(a.factoryPassword)) reg.add(a.factoryPassword);
    return reg;
  }

  private pattern: RegExp | undefined;

  mask(text: string): string {
    if (this.reveal || this.values.size === 0) return text;
    if (!this.pattern) {
      // Longest first so a secret containing another is masked whole. Token
      // boundaries keep a numeric password ("1234") from mangling a port
      // number ("21234") while still catching it in "admin:1234" or JSON.
      const alternatives = [...this.values].sort((a, b) => b.length - a.length).map((v) => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
      this.pattern = new RegExp(`(?<![A-Za-z0-9])(?:${alternatives.join('|')})(?![A-Za-z0-9])`, 'g');
    }
    return text.replace(this.pattern, MASK);
  }

  /** Deep copy with every string masked and every `password` field hidden. */
  maskDeep<T>(value: T): T {
    const walk = (v: unknown, key?: string): unknown => {
      if (typeof v === 'string') return !this.reveal && key && /^(password|passphrase|psk)$/i.test(key) ? MASK : this.mask(v);
      if (Array.isArray(v)) return v.map((x) => walk(x));
      if (v && typeof v === 'object' && !(v instanceof Date)) {
        return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, walk(x, k)]));
      }
      return v;
    };
    return walk(value) as T;
  }
}

/** How a default password is shown in findings: never the value itself. */
export function maskPassword(password: string, reveal: boolean): string {
  if (reveal) return password === '' ? '(empty)' : password;
  return password === '' ? '(empty)' : MASK;
}
