import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newRun } from '../../../src/domain/run';
import { RunStore, runChangedChannel } from '../../../src/queue/run-store';
import { eventually } from '../../helpers/eventually';
import { deletePrefix, testRedis } from '../../helpers/redis';

let redis: Redis;
let subscriber: Redis;
let prefix: string;
beforeEach(() => {
  redis = testRedis();
  subscriber = testRedis();
  prefix = `test-${randomUUID()}`;
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  await Promise.all([redis.quit(), subscriber.quit()]);
});

describe('RunStore announces a run’s changes', () => {
  it('on its channel, when the run is first written and when a save changes it', async () => {
    const runs = new RunStore(redis, prefix);
    const run = newRun({
      id: randomUUID(),
      credential: 'crm-integration',
      requester: { kind: 'cli', id: 'alice', name: 'alice' },
      now: new Date(),
    });
    const told: string[] = [];
    subscriber.on('message', (channel: string) => told.push(channel));
    await subscriber.subscribe(runChangedChannel(prefix, run.id));

    await runs.save(run);
    await eventually(() => told.length === 1);
    run.status = 'finished';
    await runs.save(run);
    await eventually(() => told.length === 2);

    expect(told).toEqual([runChangedChannel(prefix, run.id), runChangedChannel(prefix, run.id)]);
    expect((await runs.get(run.id))?.status).toBe('finished');
  });
});
