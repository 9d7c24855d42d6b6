import {
  retryAfterFromHeaders,
  retryAfterOf,
  withRetry,
  type RetryOptions,
} from '../../../src/adapters/retry';

class Flaky extends Error {
  constructor(
    readonly retry: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(retry ? 'try again' : 'give up');
  }
}

/** Options with a sleep that only records how long it was asked to wait. */
function options(overrides: Partial<RetryOptions> = {}): RetryOptions & { delays: number[] } {
  const delays: number[] = [];
  return {
    attempts: 4,
    baseDelayMs: 100,
    maxDelayMs: 10_000,
    retryable: (e) => e instanceof Flaky && e.retry,
    sleep: async (ms) => {
      delays.push(ms);
    },
    ...overrides,
    delays,
  };
}

describe('withRetry', () => {
  describe('when the call succeeds after transient failures', () => {
    it('returns its value, passing the attempt number each time', async () => {
      const seen: number[] = [];
      const opts = options();
      const result = await withRetry(async (attempt) => {
        seen.push(attempt);
        if (attempt < 3) throw new Flaky(true);
        return 'ok';
      }, opts);
      expect(result).toBe('ok');
      expect(seen).toEqual([1, 2, 3]);
      expect(opts.delays).toHaveLength(2);
    });
  });

  describe('when the call keeps failing', () => {
    it('stops after the configured number of attempts and throws the last error', async () => {
      const opts = options({ attempts: 3 });
      let calls = 0;
      const last = new Flaky(true);
      await expect(
        withRetry(async () => {
          calls++;
          throw calls === 3 ? last : new Flaky(true);
        }, opts),
      ).rejects.toBe(last);
      expect(calls).toBe(3);
      expect(opts.delays).toHaveLength(2);
    });

    it('backs off exponentially with at most 25% jitter', async () => {
      const opts = options({ attempts: 4, baseDelayMs: 100 });
      await expect(
        withRetry(async () => {
          throw new Flaky(true);
        }, opts),
      ).rejects.toBeInstanceOf(Flaky);
      const [d1, d2, d3] = opts.delays;
      expect(d1).toBeGreaterThanOrEqual(100);
      expect(d1).toBeLessThan(125);
      expect(d2).toBeGreaterThanOrEqual(200);
      expect(d2).toBeLessThan(250);
      expect(d3).toBeGreaterThanOrEqual(400);
      expect(d3).toBeLessThan(500);
    });

    it('never waits longer than maxDelayMs', async () => {
      const opts = options({ attempts: 6, baseDelayMs: 1000, maxDelayMs: 3000 });
      await expect(
        withRetry(async () => {
          throw new Flaky(true);
        }, opts),
      ).rejects.toBeInstanceOf(Flaky);
      expect(opts.delays).toHaveLength(5);
      expect(Math.max(...opts.delays)).toBeLessThanOrEqual(3000);
    });
  });

  describe('when attempts is 1', () => {
    it('tries once and never sleeps', async () => {
      const opts = options({ attempts: 1 });
      let calls = 0;
      await expect(
        withRetry(async () => {
          calls++;
          throw new Flaky(true);
        }, opts),
      ).rejects.toBeInstanceOf(Flaky);
      expect(calls).toBe(1);
      expect(opts.delays).toEqual([]);
    });
  });

  describe('when the error is not retryable', () => {
    it('throws it at once without sleeping', async () => {
      const opts = options();
      const fatal = new Flaky(false);
      let calls = 0;
      await expect(
        withRetry(async () => {
          calls++;
          throw fatal;
        }, opts),
      ).rejects.toBe(fatal);
      expect(calls).toBe(1);
      expect(opts.delays).toEqual([]);
    });
  });

  describe('when the error carries retryAfterMs', () => {
    it('waits that long instead of the shorter backoff', async () => {
      const opts = options({ baseDelayMs: 10 });
      await withRetry(async (attempt) => {
        if (attempt === 1) throw new Flaky(true, 5000);
        return 'ok';
      }, opts);
      expect(opts.delays).toEqual([5000]);
    });

    it('keeps the backoff when it is longer than retryAfterMs', async () => {
      const opts = options({ baseDelayMs: 1000 });
      await withRetry(async (attempt) => {
        if (attempt === 1) throw new Flaky(true, 1);
        return 'ok';
      }, opts);
      expect(opts.delays[0]).toBeGreaterThanOrEqual(1000);
    });

    it('caps it at maxDelayMs', async () => {
      const opts = options({ maxDelayMs: 2000 });
      await withRetry(async (attempt) => {
        if (attempt === 1) throw new Flaky(true, 60_000);
        return 'ok';
      }, opts);
      expect(opts.delays).toEqual([2000]);
    });
  });

  it('reports each retry with the error, attempt and delay', async () => {
    const calls: Array<[unknown, number, number]> = [];
    const first = new Flaky(true, 700);
    const opts = options({ onRetry: (e, attempt, delay) => calls.push([e, attempt, delay]) });
    await withRetry(async (attempt) => {
      if (attempt === 1) throw first;
      return 'ok';
    }, opts);
    expect(calls).toEqual([[first, 1, 700]]);
  });
});

describe('retryAfterOf', () => {
  it.each<[string, unknown, number | undefined]>([
    ['a finite non-negative number', { retryAfterMs: 1500 }, 1500],
    ['zero', { retryAfterMs: 0 }, 0],
    ['a negative number', { retryAfterMs: -1 }, undefined],
    ['NaN', { retryAfterMs: Number.NaN }, undefined],
    ['Infinity', { retryAfterMs: Number.POSITIVE_INFINITY }, undefined],
    ['a string', { retryAfterMs: '1500' }, undefined],
    ['no such field', new Error('x'), undefined],
    ['null', null, undefined],
  ])('with %s gives %s', (_case, e, expected) => {
    expect(retryAfterOf(e)).toBe(expected);
  });
});

describe('retryAfterFromHeaders', () => {
  const NOW = Date.parse('2025-06-01T12:00:00.000Z');

  describe('when Retry-After is in seconds', () => {
    it('converts it to milliseconds', () => {
      expect(retryAfterFromHeaders(new Headers({ 'Retry-After': '120' }), NOW)).toBe(120_000);
    });
  });

  describe('when Retry-After is an HTTP date', () => {
    it('waits until that date', () => {
      const headers = new Headers({ 'Retry-After': 'Sun, 01 Jun 2025 12:00:30 GMT' });
      expect(retryAfterFromHeaders(headers, NOW)).toBe(30_000);
    });

    it('does not wait for a date already past', () => {
      const headers = new Headers({ 'Retry-After': 'Sun, 01 Jun 2025 11:00:00 GMT' });
      expect(retryAfterFromHeaders(headers, NOW)).toBe(0);
    });
  });

  describe('when only X-RateLimit-Reset is given', () => {
    it('waits until that unix second', () => {
      const headers = new Headers({ 'X-RateLimit-Reset': String(NOW / 1000 + 45) });
      expect(retryAfterFromHeaders(headers, NOW)).toBe(45_000);
    });

    it('does not wait for a reset already past', () => {
      const headers = new Headers({ 'X-RateLimit-Reset': String(NOW / 1000 - 10) });
      expect(retryAfterFromHeaders(headers, NOW)).toBe(0);
    });
  });

  describe('when both are given', () => {
    it('prefers Retry-After', () => {
      const headers = new Headers({ 'Retry-After': '5', 'X-RateLimit-Reset': String(NOW / 1000 + 45) });
      expect(retryAfterFromHeaders(headers, NOW)).toBe(5000);
    });
  });

  describe('when Retry-After cannot be read', () => {
    it('falls back to X-RateLimit-Reset', () => {
      const headers = new Headers({ 'Retry-After': 'soon', 'X-RateLimit-Reset': String(NOW / 1000 + 45) });
      expect(retryAfterFromHeaders(headers, NOW)).toBe(45_000);
    });
  });

  describe('when neither header says anything usable', () => {
    it.each<[string, Record<string, string>]>([
      ['no headers', {}],
      ['garbage values', { 'Retry-After': 'soon', 'X-RateLimit-Reset': 'later' }],
    ])('gives undefined (%s)', (_case, init) => {
      expect(retryAfterFromHeaders(new Headers(init), NOW)).toBeUndefined();
    });
  });
});
