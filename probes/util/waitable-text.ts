/** Text arriving from a socket, capped, with a bounded wait for what a caller is looking for. */
export class WaitableText {
  text = '';
  closed = false;
  private waiters: Array<() => void> = [];

  constructor(private readonly max = 64 * 1024) {}

  append(s: string): void {
    this.text = (this.text + s).slice(-this.max);
    this.wake();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolve with `look()`'s first non-null answer, or null when the text stops coming or `ms` pass. */
  async until<T>(look: () => T | null, ms: number): Promise<T | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = look();
      if (found !== null) return found;
      const left = deadline - Date.now();
      if (left <= 0 || this.closed) return null;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}
