import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { addJobCommand, queueKeys } from '../../../src/cli/bullmq-add';
import { RespConnection, redisTarget } from '../../../src/cli/resp';
import { deletePrefix, REDIS_URL, testRedis } from '../../helpers/redis';

const DATA = {
  kind: 'rotate',
  credential: 'payment-gateway-api',
  user: 'alice',
  deadline: 1_900_000_000_000,
};
const OPTS = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } };

describe('a job added without BullMQ’s Queue', () => {
  const redis = testRedis();
  let prefix: string;
  let conn: RespConnection;
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    conn = RespConnection.open(redisTarget(REDIS_URL));
  });
  afterEach(async () => {
    conn.close();
    await deletePrefix(redis, prefix);
  });
  afterAll(() => redis.disconnect());

  it('is stored, queued and announced as Queue.add stores, queues and announces the same job', async () => {
    const queue = new Queue('requests', { connection: redis, prefix });
    try {
      const theirs = await queue.add('rotate', DATA, OPTS);
      const keys = queueKeys(prefix, 'requests');
      const ours = await conn.command(
        addJobCommand(keys, { name: 'rotate', data: DATA, opts: OPTS, timestamp: Date.now() }),
      );
      expect(ours).toBe(String(Number(theirs.id) + 1));

      const stored = async (id: string) => {
        const { timestamp, ...rest } = await redis.hgetall(`${keys['']}${id}`);
        expect(Number(timestamp)).toBeGreaterThan(0);
        return rest;
      };
      expect(await stored(ours as string)).toEqual(await stored(theirs.id!));
      expect(await redis.lrange(keys.wait!, 0, -1)).toEqual([ours, theirs.id]);
      const events = (await redis.xrange(keys.events!, '-', '+')).map(([, f]) => f.join(' '));
      expect(events.filter((e) => e.includes(`jobId ${ours}`))).toEqual(
        events
          .filter((e) => e.includes(`jobId ${theirs.id}`))
          .map((e) => e.replace(theirs.id!, ours as string)),
      );

      const job = await queue.getJob(ours as string);
      expect(job?.data).toEqual(DATA);
      expect(job?.opts).toEqual({ attempts: 0, ...OPTS });
    } finally {
      await queue.close();
    }
  });
});
