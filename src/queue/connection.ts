import IORedis, { type Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on Redis);
 * request paths (the Slack handlers, the CLI) fail within seconds instead (one retry, a command
 * timeout) so a user hears "nothing was started" rather than waiting on a dead Redis.
 */
export function createRedis(url: string, role: 'worker' | 'request', extra: RedisOptions = {}): Redis {
  return new IORedis(url, {
    maxRetriesPerRequest: role === 'worker' ? null : 1,
    connectTimeout: 5000,
    ...(role === 'request' ? { commandTimeout: 3000 } : {}),
    // ioredis would otherwise retry forever without a bound on the delay.
    retryStrategy: (times) => Math.min(times * 200, 5000),
    ...extra,
  });
}
