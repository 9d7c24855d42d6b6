import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RotatorError } from '../domain/errors';
import type { IssuedKeyInfo, Issuer, KeyStatus, KeyUse } from '../domain/ports';
import type { Secret } from '../domain/secret';

// A counting semaphore: leases in a sorted set scored by expiry, on Redis's clock (not a replica's).
const ACQUIRE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

export interface IssuerLimiterOptions {
  /** How long a lease lives if its holder dies mid-call (longer than any one call). */
  leaseMs?: number;
  /** How long a call may wait for a slot before it counts as rate limited (transient). */
  maxWaitMs?: number;
}

/**
 * Calls to one issuer bounded across every replica: at most `limit` in flight, whichever worker
 * process makes them (a per-process limit is a hint, not a limit). A lease outlives a dead holder
 * by at most `leaseMs`.
 */
export class IssuerLimiter {
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: IssuerLimiterOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxWaitMs = opts.maxWaitMs ?? 120_000;
  }

  async run<T>(issuer: string, limit: number, fn: () => Promise<T>): Promise<T> {
    const key = `${this.prefix}:issuer-slots:${issuer}`;
    const token = randomUUID();
    const deadline = Date.now() + this.maxWaitMs;
    // Short polls: a slot freed is taken within ~20 ms (a longer backoff left slots idle, measured).
    for (let delay = 5; ; delay = Math.min(delay * 2, 20)) {
      if ((await this.redis.eval(ACQUIRE, 1, key, limit, this.leaseMs, token)) === 1) break;
      if (Date.now() > deadline) {
        throw new RotatorError(
          'issuer_rate_limited',
          `${issuer}: no call slot free within ${Math.round(this.maxWaitMs / 1000)}s (limit ${limit} in flight)`,
          { transient: true, context: { issuer, limit } },
        );
      }
      await new Promise((r) => setTimeout(r, delay + Math.floor(Math.random() * delay)));
    }
    try {
      return await fn();
    } finally {
      await this.redis.zrem(key, token).catch(() => undefined);
    }
  }
}

/** An Issuer whose every call takes a slot of its issuer's shared limit first. */
export class LimitedIssuer implements Issuer {
  readonly usage?: (keyId: string, since: Date) => Promise<KeyUse[]>;

  constructor(
    private readonly inner: Issuer,
    private readonly limiter: IssuerLimiter,
    private readonly name: string,
    private readonly limit: number,
  ) {
    const usage = inner.usage?.bind(inner);
    if (usage) this.usage = (keyId, since) => this.slot(() => usage(keyId, since));
  }

  private slot<T>(fn: () => Promise<T>): Promise<T> {
    return this.limiter.run(this.name, this.limit, fn);
  }

  create(label: string): Promise<{ keyId: string; value: Secret }> {
    return this.slot(() => this.inner.create(label));
  }
  list(): Promise<IssuedKeyInfo[]> {
    return this.slot(() => this.inner.list());
  }
  status(keyId: string): Promise<KeyStatus> {
    return this.slot(() => this.inner.status(keyId));
  }
  revoke(keyId: string): Promise<void> {
    return this.slot(() => this.inner.revoke(keyId));
  }
  lastUsed(keyId: string): Promise<Date | undefined> {
    return this.slot(() => this.inner.lastUsed(keyId));
  }
  accepts(value: Secret): Promise<boolean> {
    return this.slot(() => this.inner.accepts(value));
  }
}
