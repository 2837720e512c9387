/** Sleep `ms`, waking early when the signal aborts (the caller checks the signal). */
export function sleepUnlessAborted(signal: AbortSignal, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const wake = (): void => {
      clearTimeout(t);
      signal.removeEventListener('abort', wake);
      resolve();
    };
    const t = setTimeout(wake, ms);
    signal.addEventListener('abort', wake, { once: true });
  });
}
