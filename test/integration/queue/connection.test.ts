import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { createRedis } from '../../../src/queue/connection';
import { REDIS_URL, deletePrefix, testRedis } from '../../helpers/redis';

/** Counts the writes that reach the connection's socket (one each, or one for many corked ones). */
function socketWrites(redis: Redis): () => number {
  type Writes = { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
  const stream = (redis as unknown as { stream: Writes }).stream;
  const single = jest.spyOn(stream, '_write');
  const many = jest.spyOn(stream, '_writev');
  return () => single.mock.calls.length + many.mock.calls.length;
}

describe('createRedis', () => {
  const prefix = `test-${randomUUID()}`;
  let redis: Redis;
  let cleanup: Redis;

  beforeEach(async () => {
    redis = createRedis(REDIS_URL, 'worker');
    cleanup = testRedis();
    await redis.ping();
  });

  afterEach(async () => {
    await deletePrefix(cleanup, prefix);
    redis.disconnect();
    await cleanup.quit();
  });

  it('sends the commands of one event-loop turn in one socket write, in order', async () => {
    const writes = socketWrites(redis);
    const key = `${prefix}:n`;
    const replies = await Promise.all([
      redis.set(key, '1'),
      ...Array.from({ length: 30 }, () => redis.incr(key)),
      redis.get(key),
      redis.del(key),
      redis.get(key),
    ]);
    expect(writes()).toBe(1);
    // Order kept: each INCR saw the one before it, the GET saw all 30, the DEL came after.
    expect(replies).toEqual(['OK', ...Array.from({ length: 30 }, (_, i) => i + 2), '31', 1, null]);
  });

  it('writes a later turn’s commands in a write of their own, without waiting for more', async () => {
    const writes = socketWrites(redis);
    await redis.set(`${prefix}:a`, 'x');
    await redis.get(`${prefix}:a`);
    expect(writes()).toBe(2);
  });

  it('coalesces again on the socket of a reconnect', async () => {
    const before = (redis as unknown as { stream: Socket }).stream;
    const reconnected = new Promise((resolve) => redis.once('ready', resolve));
    before.destroy(); // as if the network dropped it: ioredis reconnects on a new socket
    await reconnected;
    expect((redis as unknown as { stream: Socket }).stream).not.toBe(before);
    const writes = socketWrites(redis);
    const values = await Promise.all(
      Array.from({ length: 20 }, (_, i) => redis.set(`${prefix}:r${i}`, String(i)).then(() => i)),
    );
    expect(values).toHaveLength(20);
    expect(writes()).toBe(1);
    expect(await cleanup.get(`${prefix}:r19`)).toBe('19');
  });

  describe('when Redis does not answer (nothing listens at its address)', () => {
    const DEAD = 'redis://127.0.0.1:1';

    it('fails a request path’s command at once, so the user hears that nothing was started', async () => {
      const request = createRedis(DEAD, 'request');
      request.on('error', () => undefined);
      try {
        // Its one retry spent, not its 3 s command timeout: a refused connection fails at once.
        await expect(request.ping()).rejects.toThrow(/max retries per request/);
      } finally {
        request.disconnect();
      }
    });

    it('keeps a worker’s command waiting for Redis to come back', async () => {
      const worker = createRedis(DEAD, 'worker');
      worker.on('error', () => undefined);
      try {
        const outcome = await Promise.race([
          worker.ping().then(
            () => 'answered',
            () => 'failed',
          ),
          new Promise((resolve) => setTimeout(() => resolve('waiting'), 1_500)),
        ]);
        expect(outcome).toBe('waiting');
      } finally {
        worker.disconnect();
      }
    });
  });
});
