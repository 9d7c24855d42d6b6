import type { Redis } from 'ioredis';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

describe('verify', () => {
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

  describe('when the issuer lists the new key as active but refuses it', () => {
    it('fails verification and rolls back before the old key is touched', async () => {
      w.issuer.refuseCreated = true;
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({
        step: 'verify',
        code: 'verify_failed',
        hint: 'provider_rejects_new',
      });
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('active');
      expect(w.store.current(w.spec.store)!.keyId).toBe(w.oldKey.keyId);
      expect(w.issuer.statusOf(run.facts.newKeyId!)).toBe('revoked');
      expect(stepStatus(run, 'revoke-old')).toBe('skipped');
    });
  });
});
