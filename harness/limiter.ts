/**
 * A counting semaphore with abort support, a record of peak use, and a fair
 * share per key (a service: the device's port). A daemon that delays each
 * refusal holds its slots for seconds; without shares, the probes asking
 * other services quick questions would wait in line behind its logins.
 *
 * - A freed slot goes to the waiting key that holds the fewest, first come
 *   first served among equals (max-min fairness across services).
 * - While probes run side by side (`keepOneFree`, the runner's ordinary
 *   phase), with three slots or more one key never holds the last free one: a
 *   probe of another service always finds a slot at once, instead of waiting
 *   out a refusal delay. `perKey` is what one key can have; a probe that wants
 *   its own attempts' latency to be the device's runs at most that many at once.
 */
export class Semaphore {
  private active = 0;
  private readonly byKey = new Map<string, number>();
  private waiting: Array<{ key: string | undefined; go: () => void }> = [];
  peak = 0;
  private keepFree = false;

  /** `parent`, when given, is a wider limit every acquire also needs (a fleet's global connection cap). */
  constructor(
    readonly limit: number,
    private readonly parent?: Semaphore,
  ) {}

  /** Keep a slot free for another key (probes side by side); off when one probe has the device to itself. */
  get keepOneFree(): boolean {
    return this.keepFree;
  }

  set keepOneFree(on: boolean) {
    this.keepFree = on;
    // Turned off, a key held back at its share may take a slot now.
    this.dispatch();
  }

  get inUse(): number {
    return this.active;
  }

  /** The most slots one key may hold at once. */
  get perKey(): number {
    return this.keepFree && this.limit >= 3 ? this.limit - 1 : this.limit;
  }

  private admits(key: string | undefined): boolean {
    return this.active < this.limit && (key === undefined || (this.byKey.get(key) ?? 0) < this.perKey);
  }

  private take(key: string | undefined): void {
    this.active += 1;
    this.peak = Math.max(this.peak, this.active);
    if (key !== undefined) this.byKey.set(key, (this.byKey.get(key) ?? 0) + 1);
  }

  private give(key: string | undefined): void {
    this.active -= 1;
    if (key !== undefined) {
      const n = (this.byKey.get(key) ?? 1) - 1;
      if (n > 0) this.byKey.set(key, n);
      else this.byKey.delete(key);
    }
    this.dispatch();
  }

  /** Hand free slots to waiters: the admissible key holding the fewest first, in arrival order among equals. */
  private dispatch(): void {
    while (this.active < this.limit && this.waiting.length > 0) {
      let best = -1;
      let fewest = Infinity;
      for (let i = 0; i < this.waiting.length; i++) {
        const { key } = this.waiting[i];
        if (!this.admits(key)) continue;
        const held = key === undefined ? 0 : (this.byKey.get(key) ?? 0);
        if (held < fewest) {
          best = i;
          fewest = held;
        }
      }
      if (best < 0) return;
      const [w] = this.waiting.splice(best, 1);
      this.take(w.key);
      w.go();
    }
  }

  /** A slot, counted against `key`'s share when one is given. Resolves to its release (idempotent). */
  async acquire(signal?: AbortSignal, key?: string): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.admits(key)) this.take(key);
    else {
      await new Promise<void>((resolve, reject) => {
        const w = {
          key,
          go: (): void => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          this.waiting = this.waiting.filter((x) => x !== w);
          reject(signal?.reason ?? new Error('aborted'));
        };
        this.waiting.push(w);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    let releaseParent: (() => void) | undefined;
    if (this.parent) {
      try {
        releaseParent = await this.parent.acquire(signal);
      } catch (err) {
        this.give(key);
        throw err;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseParent?.();
      this.give(key);
    };
  }
}

/** Run `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return out;
}
