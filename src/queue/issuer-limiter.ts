import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RotatorError } from '../domain/errors';
import type { IssuedKeyInfo, Issuer, KeyStatus, KeyUse, OpenSessions } from '../domain/ports';
import type { Secret } from '../domain/secret';
import { RedisScript } from './redis-script';

// A fair counting semaphore on Redis's clock (not a replica's). KEYS: leases (token → expiry),
// queue (token → arrival order), seen (token → last poll). A waiter gets a slot only when it is
// among the first in line for the slots free, so calls are served in arrival order and no run of an
// incident races ahead while others starve; a waiter that stops polling (its process died) leaves
// the line after WAITER_TTL_MS.
const ACQUIRE = new RedisScript(
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, lease, token, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local gone = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now - ttl)
for _, w in ipairs(gone) do
  redis.call('ZREM', KEYS[2], w)
  redis.call('ZREM', KEYS[3], w)
end
if redis.call('ZSCORE', KEYS[2], token) == false then
  redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[2] .. ':n'), token)
end
local free = limit - redis.call('ZCARD', KEYS[1])
local rank = redis.call('ZRANK', KEYS[2], token)
if free > 0 and rank < free then
  redis.call('ZREM', KEYS[2], token)
  redis.call('ZREM', KEYS[3], token)
  redis.call('ZADD', KEYS[1], now + lease, token)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], lease) end
  redis.call('PEXPIRE', KEYS[2] .. ':n', lease)
  return 1
end
redis.call('ZADD', KEYS[3], now, token)
for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], lease) end
return 0
`,
  3,
);

/**
 * One waiter of this process: `wake` ends its pause; `woken` remembers a wake that came while it was
 * not pausing (its poll in flight), so its next pause ends at once instead of sleeping through it.
 */
interface Waiter {
  woken: boolean;
  wake?: () => void;
}

/** A waiter not seen polling for this long has gone (its process died) and leaves the line. */
const WAITER_TTL_MS = 2_000;

export interface IssuerLimiterOptions {
  /** How long a lease lives if its holder dies mid-call (longer than any one call). */
  leaseMs?: number;
  /** How long a call may wait for a slot before it counts as rate limited (transient). */
  maxWaitMs?: number;
  /**
   * A connection this limiter may put in subscriber mode: a freed slot is announced on it, so the
   * next waiter takes it at once instead of at its next poll (polls stay as the fallback).
   */
  subscriber?: () => Redis;
  /** First and longest pause between two polls (default 5 ms, and 20 ms or 100 ms with announcements). */
  pollMinMs?: number;
  pollMaxMs?: number;
}

/**
 * Calls to one issuer bounded across every replica: at most `limit` in flight, whichever worker
 * process makes them (a per-process limit is a hint, not a limit), served in arrival order. A
 * lease outlives a dead holder by at most `leaseMs`.
 */
export class IssuerLimiter {
  private readonly leaseMs: number;
  private readonly maxWaitMs: number;
  private readonly subscriber?: () => Redis;
  private readonly pollMinMs: number;
  private readonly pollMaxMs: number;
  private events?: Redis;
  /**
   * This process's waiters per issuer, by token, in arrival order (an entry keeps its place across
   * its pauses, as its place in Redis's line does): the first ones are woken when a slot frees.
   */
  private readonly waiters = new Map<string, { limit: number; line: Map<string, Waiter> }>();
  private subscribed?: Promise<unknown>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: IssuerLimiterOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.maxWaitMs = opts.maxWaitMs ?? 120_000;
    if (opts.subscriber) this.subscriber = opts.subscriber;
    this.pollMinMs = opts.pollMinMs ?? 5;
    this.pollMaxMs = opts.pollMaxMs ?? (opts.subscriber ? 100 : 20);
  }

  /** Closes the announcement connection, when one was opened. */
  close(): void {
    this.events?.disconnect();
  }

  private get channel(): string {
    return `${this.prefix}:issuer-free`;
  }

  private listen(): Promise<unknown> {
    const connect = this.subscriber;
    if (!connect) return Promise.resolve();
    this.subscribed ??= (async () => {
      const sub = (this.events = connect());
      sub.on('message', (channel: string, issuer: string) => {
        if (channel !== this.channel) return;
        const waiting = this.waiters.get(issuer);
        if (!waiting) return;
        // The first in line here include the first in line overall (Redis serves its line in
        // arrival order); waking the rest would only make them poll for a slot they cannot have.
        let n = 0;
        for (const waiter of waiting.line.values()) {
          if (n++ >= waiting.limit) break;
          waiter.woken = true;
          waiter.wake?.();
        }
      });
      await sub.subscribe(this.channel);
      // A slot freed before the subscription took was announced to nobody: everyone polls once more.
      for (const waiting of this.waiters.values())
        for (const waiter of waiting.line.values()) {
          waiter.woken = true;
          waiter.wake?.();
        }
    })().catch(() => undefined); // no announcements: the polls still find the slot
    return this.subscribed;
  }

  /** Waits `ms`, or less when a slot of `issuer` is announced free. */
  private pause(issuer: string, token: string, ms: number): Promise<void> {
    const waiter = this.waiters.get(issuer)!.line.get(token)!;
    // Announced while its poll was in flight: that poll may have run just before the slot freed.
    if (waiter.woken) {
      waiter.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        waiter.woken = false;
        delete waiter.wake; // keeps its place in line until it leaves
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiter.wake = wake;
    });
  }

  private join(issuer: string, token: string, limit: number): void {
    const waiting = this.waiters.get(issuer) ?? { limit, line: new Map<string, Waiter>() };
    waiting.limit = limit;
    waiting.line.set(token, { woken: false });
    this.waiters.set(issuer, waiting);
  }

  private leave(issuer: string, token: string): void {
    const waiting = this.waiters.get(issuer);
    waiting?.line.delete(token);
    if (waiting?.line.size === 0) this.waiters.delete(issuer);
  }

  async run<T>(issuer: string, limit: number, fn: () => Promise<T>): Promise<T> {
    // One hash tag: the three keys stay in one slot of a Redis Cluster.
    const base = `${this.prefix}:issuer:{${issuer}}`;
    const keys = [`${base}:leases`, `${base}:queue`, `${base}:seen`];
    const token = randomUUID();
    const deadline = Date.now() + this.maxWaitMs;
    this.join(issuer, token, limit);
    try {
      await this.acquire(issuer, limit, token, keys, deadline);
    } finally {
      this.leave(issuer, token);
    }
    try {
      return await fn();
    } finally {
      await this.redis
        .multi()
        .zrem(keys[0]!, token)
        .publish(this.channel, issuer)
        .exec()
        .catch(() => undefined);
    }
  }

  private async acquire(
    issuer: string,
    limit: number,
    token: string,
    keys: string[],
    deadline: number,
  ): Promise<void> {
    // Short polls: a slot freed is taken within ~20 ms (a longer backoff left slots idle, measured);
    // with announcements a freed slot is taken at once and the polls are only the fallback.
    for (let delay = this.pollMinMs; ; delay = Math.min(delay * 2, this.pollMaxMs)) {
      const got = await ACQUIRE.run(this.redis, keys, limit, this.leaseMs, token, WAITER_TTL_MS);
      if (got === 1) return;
      if (Date.now() > deadline) {
        await this.redis.zrem(keys[1]!, token).catch(() => undefined);
        throw new RotatorError(
          'issuer_rate_limited',
          `${issuer}: no call slot free within ${Math.round(this.maxWaitMs / 1000)}s (limit ${limit} in flight)`,
          { transient: true, context: { issuer, limit } },
        );
      }
      // Only a caller that has to wait listens, and it does not wait for the subscription: its
      // polls find the slot until announcements flow.
      void this.listen();
      await this.pause(issuer, token, delay + Math.floor(Math.random() * delay));
    }
  }
}

/** An Issuer whose every call takes a slot of its issuer's shared limit first. */
export class LimitedIssuer implements Issuer {
  readonly usage?: (keyId: string, since: Date) => Promise<KeyUse[]>;
  readonly keyLimit?: number;
  readonly deactivate?: (keyId: string) => Promise<void>;
  readonly reactivate?: (keyId: string) => Promise<void>;
  readonly openSessions?: (keyId: string) => Promise<OpenSessions>;
  readonly reinstate?: (keyId: string, value: Secret) => Promise<void>;
  readonly loginOf?: (keyId: string) => string | undefined;

  constructor(
    private readonly inner: Issuer,
    private readonly limiter: IssuerLimiter,
    private readonly name: string,
    private readonly limit: number,
  ) {
    const usage = inner.usage?.bind(inner);
    if (usage) this.usage = (keyId, since) => this.slot(() => usage(keyId, since));
    if (inner.keyLimit !== undefined) this.keyLimit = inner.keyLimit;
    const deactivate = inner.deactivate?.bind(inner);
    const reactivate = inner.reactivate?.bind(inner);
    if (deactivate) this.deactivate = (keyId) => this.slot(() => deactivate(keyId));
    if (reactivate) this.reactivate = (keyId) => this.slot(() => reactivate(keyId));
    const openSessions = inner.openSessions?.bind(inner);
    if (openSessions) this.openSessions = (keyId) => this.slot(() => openSessions(keyId));
    const reinstate = inner.reinstate?.bind(inner);
    if (reinstate) this.reinstate = (keyId, value) => this.slot(() => reinstate(keyId, value));
    // A pure function of the key id: no call, no slot.
    if (inner.loginOf) this.loginOf = inner.loginOf.bind(inner);
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
  accepts(value: Secret, keyId?: string): Promise<boolean> {
    return this.slot(() => this.inner.accepts(value, keyId));
  }
}
