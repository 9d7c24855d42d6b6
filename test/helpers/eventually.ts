import { setTimeout as sleep } from 'node:timers/promises';

export interface EventuallyOptions<T> {
  /** Give up after this long; default 5 s. */
  timeoutMs?: number;
  /** Between looks; default 25 ms. */
  intervalMs?: number;
  /** What was awaited, for the timeout message; gets the last value `fn` returned. */
  describe?: (last: T | undefined) => string;
}

/**
 * The one polling helper: looks at `fn` until it returns a truthy value, and returns that value.
 * When the deadline passes it fails, saying what it waited for and what it saw last; it never
 * returns quietly. An error thrown by `fn` fails at once.
 */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  options: number | EventuallyOptions<T> = {},
): Promise<NonNullable<T>> {
  const opts = typeof options === 'number' ? { timeoutMs: options } : options;
  const timeoutMs = opts.timeoutMs ?? 5_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await fn();
    if (last) return last as NonNullable<T>;
    if (Date.now() >= deadline) {
      const what = opts.describe?.(last) ?? `condition not met, last value ${JSON.stringify(last)}`;
      throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
    }
    await sleep(opts.intervalMs ?? 25);
  }
}
