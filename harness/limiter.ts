/** A counting semaphore with abort support, and a record of peak use. */
export class Semaphore {
  private active = 0;
  private waiting: Array<() => void> = [];
  peak = 0;

  /** `parent`, when given, is a wider limit every acquire also needs (a fleet's global connection cap). */
  constructor(
    readonly limit: number,
    private readonly parent?: Semaphore,
  ) {}

  get inUse(): number {
    return this.active;
  }

  async acquire(signal?: AbortSignal): Promise<() => void> {
    signal?.throwIfAborted();
    if (this.active >= this.limit) {
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => {
          this.waiting = this.waiting.filter((w) => w !== go);
          reject(signal?.reason ?? new Error('aborted'));
        };
        const go = (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        this.waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
    this.active += 1;
    this.peak = Math.max(this.peak, this.active);
    let releaseParent: (() => void) | undefined;
    if (this.parent) {
      try {
        releaseParent = await this.parent.acquire(signal);
      } catch (err) {
        this.active -= 1;
        this.waiting.shift()?.();
        throw err;
      }
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      releaseParent?.();
      this.active -= 1;
      this.waiting.shift()?.();
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
