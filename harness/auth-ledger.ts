/**
 * One ledger per device, shared by every probe of a run, of everything that
 * could count as a failed authentication: wrong passwords, and requests
 * without credentials to protected resources (many devices count those
 * too). Real devices count failures per device, or per admin interface:
 * services share one lockout group unless the device file says otherwise
 * (`auth[].lockoutGroup`; default: one group for the whole device).
 *
 * The ledger is protocol-free bookkeeping: how many failures since the lab
 * credential last worked (the device's counter, as far as starbench can
 * know it), the lockout the device file declares or the one starbench
 * learned, lock signals the device sent, and every wait for access. Probes
 * (probes/credentials/session.ts) run the lab-credential controls.
 */
import type { DeviceFile } from './device-file/schema';

export interface LockSignal {
  at: string;
  port: number;
  detail: string;
  retryAfterS?: number;
}

/** A wait for the device to accept the lab credential again, as the report shows it. */
export interface AccessWait {
  group: string;
  port: number;
  /** What needed the lab credential: "update install", "credentials control", … */
  purpose: string;
  waitedMs: number;
  why: string;
  /** Whether the lab credential worked at the end of the wait. */
  ok: boolean;
  /** Whether the device itself signalled how long (Retry-After, a declared lockout) — its time, not starbench's. */
  signalled: boolean;
}

export const DEFAULT_GROUP = 'device';

export class LockGroup {
  /** Failures counted since the lab credential last worked (or a lock was waited out). */
  failuresSinceGood = 0;
  failures = 0;
  /** Increments each time the lab credential is seen working: a refusal belongs to the epoch in which it started. */
  epoch = 0;
  /** A limit starbench learned from a silent lockout: the device locked after at most this many failures. */
  learnedAfter?: number;
  /** Until when (ms since epoch) the device said it is locked; undefined when not known to be locked. */
  lockedUntil?: number;
  /** How long the last lock took to clear, as measured: the next wait starts polling near it. */
  lastLockMs?: number;
  /** Lab-credential controls run in this group. */
  controls = 0;
  /** Whether the lab credential has ever been seen working in this group. */
  labWorked = false;
  readonly signals: LockSignal[] = [];
  /** Epochs in which the device was found locked: every refusal that started in one is unknown. */
  readonly tainted = new Set<number>();
  /** A control or a wait in progress: attempts in this group wait for it. */
  gate?: Promise<unknown>;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly id: string,
    readonly ports: readonly number[],
    /** The lockout the device file declares for this group (the strictest of its entries). */
    readonly declared?: { after: number; seconds?: number },
  ) {}

  /** The failure limit in force: declared, else learned; undefined when nothing is known. */
  get limit(): number | undefined {
    const d = this.declared?.after;
    const l = this.learnedAfter;
    return d === undefined ? l : l === undefined ? d : Math.min(d, l);
  }

  /** How many more failures fit before the known limit (Infinity when none is known). */
  room(): number {
    const l = this.limit;
    return l === undefined ? Infinity : l - 1 - this.failuresSinceGood;
  }

  failed(n = 1): void {
    this.failures += n;
    this.failuresSinceGood += n;
  }

  /** The lab credential worked: the device's consecutive-failure counter is back at zero. */
  good(): void {
    this.failuresSinceGood = 0;
    this.epoch += 1;
    this.labWorked = true;
    this.lockedUntil = undefined;
  }

  signalled(s: LockSignal, fallbackSeconds?: number): void {
    this.signals.push(s);
    if (this.signals.length > 50) this.signals.shift();
    const seconds = s.retryAfterS ?? this.declared?.seconds ?? fallbackSeconds;
    if (seconds !== undefined) this.lockedUntil = Math.max(this.lockedUntil ?? 0, Date.parse(s.at) + seconds * 1000);
  }

  /** Run `fn` alone in this group: under a known limit every failure counts, so attempts go one at a time. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

export class AuthLedger {
  readonly groups = new Map<string, LockGroup>();
  readonly waits: AccessWait[] = [];
  private readonly byPort = new Map<number, string>();

  constructor(device: Pick<DeviceFile, 'auth'>) {
    const members = new Map<string, { ports: Set<number>; after?: number; seconds?: number }>();
    for (const a of device.auth) {
      const id = a.lockoutGroup ?? DEFAULT_GROUP;
      const g = members.get(id) ?? { ports: new Set<number>() };
      g.ports.add(a.port);
      if (a.bruteForce === 'lockout' && a.lockoutAfter !== undefined) {
        g.after = Math.min(g.after ?? Infinity, a.lockoutAfter);
        g.seconds = Math.max(g.seconds ?? 0, a.lockoutSeconds ?? 0) || undefined;
      }
      members.set(id, g);
      // A port named in two groups belongs to the first that names it.
      if (!this.byPort.has(a.port)) this.byPort.set(a.port, id);
    }
    if (!members.has(DEFAULT_GROUP)) members.set(DEFAULT_GROUP, { ports: new Set() });
    for (const [id, g] of members) {
      this.groups.set(id, new LockGroup(id, [...g.ports], g.after !== undefined ? { after: g.after, seconds: g.seconds } : undefined));
    }
  }

  /** The group a port's logins count in: its auth[] entry's lockoutGroup, else the whole device. */
  groupOf(port: number): LockGroup {
    return this.groups.get(this.byPort.get(port) ?? DEFAULT_GROUP)!;
  }

  waited(w: AccessWait): void {
    this.waits.push(w);
  }

  /** What the report shows: per group, the failures counted, the limit known, the lock signals, and every wait. */
  summary(): AuthLedgerSummary {
    return {
      groups: [...this.groups.values()]
        .filter((g) => g.failures > 0 || g.signals.length > 0 || g.ports.length > 0)
        .map((g) => ({
          id: g.id,
          ports: [...g.ports],
          failures: g.failures,
          declaredAfter: g.declared?.after,
          learnedAfter: g.learnedAfter,
          lockSignals: g.signals.map((s) => ({ ...s })),
        })),
      waits: this.waits.map((w) => ({ ...w })),
    };
  }
}

export interface AuthLedgerSummary {
  groups: Array<{ id: string; ports: number[]; failures: number; declaredAfter?: number; learnedAfter?: number; lockSignals: LockSignal[] }>;
  waits: AccessWait[];
}
