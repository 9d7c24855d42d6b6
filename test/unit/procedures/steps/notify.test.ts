import type { Redis } from 'ioredis';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

describe('notify', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    w = await engineWorld(redis);
  });
  afterEach(() => w.close());

  describe("when the summary's channel is busy (Slack's per-channel pace)", () => {
    it('re-queues the step for the booked slot instead of holding the worker, then posts once', async () => {
      w.chat.pacedSummaries = 2;
      const { id } = await w.newRun();
      const waiting = await w.drive(id, (r) => stepStatus(r, 'notify') === 'waiting');
      expect(waiting.status).toBe('waiting');
      expect(waiting.steps.find((s) => s.name === 'notify')?.detail).toMatch(/Slack pacing/);
      expect(w.chat.summaries).toEqual([]);

      const run = await w.drive(id);
      expect(run.outcome).toBe('succeeded');
      expect(stepStatus(run, 'notify')).toBe('done');
      expect(w.chat.summaries).toHaveLength(1);
    });
  });
});
