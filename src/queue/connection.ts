import type { Socket } from 'node:net';
import IORedis, { type Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections. Workers need `maxRetriesPerRequest: null` (BullMQ blocks on Redis);
 * request paths (the Slack handlers, the CLI) fail within seconds instead (one retry, a command
 * timeout) so a user hears "nothing was started" rather than waiting on a dead Redis.
 */
export function createRedis(url: string, role: 'worker' | 'request', extra: RedisOptions = {}): Redis {
  return coalesceWrites(
    new IORedis(url, {
      maxRetriesPerRequest: role === 'worker' ? null : 1,
      connectTimeout: 5000,
      ...(role === 'request' ? { commandTimeout: 3000 } : {}),
      // ioredis would otherwise retry forever without a bound on the delay.
      retryStrategy: (times) => Math.min(times * 200, 5000),
      ...extra,
    }),
  );
}

const COALESCED = Symbol('credential-rotator.coalesced');

/**
 * Sends the commands a connection is given during one turn of the event loop in one socket write.
 * ioredis writes each command as it is issued: on a worker running a hundred rotations that was a
 * write system call per command, the largest single cost in its profile, and as many reads for
 * Redis (bench concurrent: Redis's CPU fell by a quarter). The socket is corked at the turn's first
 * command and uncorked once the turn's I/O callbacks have run (setImmediate), so the commands keep
 * their order and wait at most for the rest of the turn. A reconnect's new socket is hooked again.
 * ioredis's own auto-pipelining is not used: it groups commands into pipelines, which on a
 * connection BullMQ shares copy every script BullMQ defined (see RunStore.patch).
 */
export function coalesceWrites(redis: Redis): Redis {
  redis.on('connect', () => {
    const stream = (redis as unknown as { stream?: Socket & { [COALESCED]?: true } }).stream;
    if (!stream || stream[COALESCED]) return;
    stream[COALESCED] = true;
    const write = stream.write;
    let corked = false;
    stream.write = function (this: Socket, ...args: Parameters<Socket['write']>) {
      if (!corked) {
        corked = true;
        stream.cork();
        setImmediate(() => {
          corked = false;
          stream.uncork();
        });
      }
      return (write as (...a: typeof args) => boolean).apply(this, args);
    } as Socket['write'];
  });
  return redis;
}
