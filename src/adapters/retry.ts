/**
 * Bounded retries with exponential backoff for every external call. An error may carry
 * `retryAfterMs` (from Retry-After or a rate-limit reset header); it is honoured up to `maxDelayMs`.
 */
export interface RetryOptions {
  attempts: number; // total tries, >= 1
  baseDelayMs: number;
  maxDelayMs: number;
  /** Whether this error is worth another try. */
  retryable: (e: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (e: unknown, attempt: number, delayMs: number) => void;
}

export const DEFAULT_RETRY: Omit<RetryOptions, 'retryable'> = {
  attempts: 4,
  baseDelayMs: 200,
  maxDelayMs: 10_000,
};

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The delay an error asks for: `retryAfterMs` on the error itself (adapters' internal errors) or in
 * a RotatorError's context (what reaches the engine). One reader for both, so no adapter's
 * Retry-After is lost on the way.
 */
export function retryAfterOf(e: unknown): number | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const own = (e as { retryAfterMs?: unknown }).retryAfterMs;
  const inContext = (e as { context?: { retryAfterMs?: unknown } }).context?.retryAfterMs;
  for (const v of [own, inContext]) {
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
  }
  return undefined;
}

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const sleep = opts.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= opts.attempts || !opts.retryable(e)) throw e;
      const backoff = Math.min(opts.maxDelayMs, opts.baseDelayMs * 2 ** (attempt - 1));
      const jitter = Math.floor(Math.random() * (backoff / 4));
      const delay = Math.min(opts.maxDelayMs, Math.max(retryAfterOf(e) ?? 0, backoff + jitter));
      opts.onRetry?.(e, attempt, delay);
      await sleep(delay);
    }
  }
}

/** Parses Retry-After (seconds or HTTP date) or X-RateLimit-Reset (unix seconds) into a delay. */
export function retryAfterFromHeaders(
  headers: { get(name: string): string | null },
  now = Date.now(),
): number | undefined {
  const ra = headers.get('retry-after');
  if (ra) {
    const secs = Number(ra);
    if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
    const at = Date.parse(ra);
    if (!Number.isNaN(at)) return Math.max(0, at - now);
  }
  const reset = headers.get('x-ratelimit-reset');
  if (reset) {
    const n = Number(reset);
    if (Number.isFinite(n)) return Math.max(0, n * 1000 - now);
  }
  return undefined;
}
