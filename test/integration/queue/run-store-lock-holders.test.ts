import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RunStore } from '../../../src/queue/run-store';
import { deletePrefix, testRedis } from '../../helpers/redis';

let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = testRedis();
  prefix = `test-${randomUUID()}`;
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('RunStore.lockHolders', () => {
  it('returns each credential’s holder in order, across pipeline batches', async () => {
    const runs = new RunStore(redis, prefix);
    const names = Array.from({ length: 2_500 }, (_, i) => `credential-${i}`);
    await runs.acquire('credential-3', 'run-a', 60_000);
    await runs.acquire('credential-2400', 'run-b', 60_000);
    const holders = await runs.lockHolders(names);
    expect(holders).toHaveLength(2_500);
    expect(holders[3]).toBe('run-a');
    expect(holders[2400]).toBe('run-b');
    expect(holders.filter(Boolean)).toHaveLength(2);
  });

  it('answers an empty list without a round trip', async () => {
    await expect(new RunStore(redis, prefix).lockHolders([])).resolves.toEqual([]);
  });
});
