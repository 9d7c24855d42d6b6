import type { Redis } from 'ioredis';
import { RotatorError } from '../../../../src/domain/errors';
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

  describe('when the summary cannot be handed to chat for a moment (Redis unreachable)', () => {
    it('re-queues the step instead of failing it, then hands the summary over once', async () => {
      w.chat.summaryError = new RotatorError('internal', 'summary for C_PAYMENTS not queued: ECONNREFUSED', {
        transient: true,
      });
      const { id } = await w.newRun();
      const waiting = await w.drive(id, (r) => stepStatus(r, 'notify') === 'waiting');
      expect(waiting.steps.find((s) => s.name === 'notify')?.detail).toMatch(/not queued/);
      expect(w.chat.summaries).toEqual([]);

      w.chat.summaryError = undefined;
      const run = await w.drive(id);
      expect(run.outcome).toBe('succeeded');
      expect(run.notifyError).toBeUndefined();
      expect(stepStatus(run, 'notify')).toBe('done');
      expect(w.chat.summaries).toHaveLength(1);
    });
  });
});
