import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { missedReminderJobId, REMINDER_JOB } from '../../../src/queue/names';
import { scheduleReminders, TICK_MARGIN_MS } from '../../../src/queue/reminder-schedule';
import { deletePrefix, testRedis } from '../../helpers/redis';

const SCHEDULE = { pattern: '0 9 * * 1', tz: 'UTC' };

describe('registering the reminder scheduler at start (real BullMQ, real Redis)', () => {
  const redis = testRedis();
  const prefix = `test-${randomUUID()}`;
  let queue: Queue;

  beforeEach(() => {
    queue = new Queue(`reminders-${randomUUID()}`, { connection: redis, prefix });
  });
  afterEach(() => queue.close());
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  /** The scheduler as a first replica left it, and the tick it has pending. */
  async function registered(): Promise<number> {
    await scheduleReminders(queue, SCHEDULE);
    const next = (await queue.getJobScheduler(REMINDER_JOB))?.next;
    expect(typeof next).toBe('number');
    return next!;
  }

  it('a replica starting just before a tick adds that tick as its own job, run at the tick, once', async () => {
    const tick = await registered();
    const now = tick - TICK_MARGIN_MS / 2;
    // Two replicas starting together.
    const results = await Promise.all([
      scheduleReminders(queue, SCHEDULE, now),
      scheduleReminders(queue, SCHEDULE, now),
    ]);
    expect(results).toEqual([{ missedTick: tick }, { missedTick: tick }]);
    const job = await queue.getJob(missedReminderJobId(tick));
    expect(job?.data).toEqual({ tick });
    expect(job?.opts.delay).toBe(TICK_MARGIN_MS / 2);
    const own = (await queue.getJobs(['delayed', 'waiting'])).filter((j) => j.data.tick === tick);
    expect(own).toHaveLength(1);
  });

  it('a replica starting well before the tick leaves it to the scheduler', async () => {
    const tick = await registered();
    await expect(scheduleReminders(queue, SCHEDULE, tick - 10 * TICK_MARGIN_MS)).resolves.toEqual({});
    expect(await queue.getJob(missedReminderJobId(tick))).toBeUndefined();
  });
});
