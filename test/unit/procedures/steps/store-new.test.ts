import type { Redis } from 'ioredis';
import { Secret } from '../../../../src/domain/secret';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

describe('store-new', () => {
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

  describe('when the store is as check-dependencies saw it', () => {
    it('writes the new key as a new version and keeps the old one as previous', async () => {
      const { id } = await w.newRun();
      const run = await w.drive(id, (r) => stepStatus(r, 'store-new') === 'done');
      const stored = w.store.versions(w.spec.store)[1]!;
      expect(stored.keyId).toBe(run.facts.newKeyId);
      expect(stored.previousKeyId).toBe(w.oldKey.keyId);
      expect(stored.previousValue?.equals(w.oldKey.value)).toBe(true);
      expect(stored.rotatedBy).toBe('cli:alice');
      expect(run.facts.newVersion).toBe(stored.version);
    });
  });

  describe('when someone else wrote the credential after the dependency check', () => {
    const theirs = new Secret('value-written-by-hand-during-the-run');

    beforeEach(() => {
      // Someone rotates by hand while the issuer is creating our key.
      w.issuer.onCreate = async () => {
        const base = w.store.current(w.spec.store)!;
        await w.store.write(
          w.spec.store,
          { value: theirs, keyId: 'by-hand', rotatedAt: w.clock.now().toISOString(), rotatedBy: 'bob' },
          base.version,
        );
        w.issuer.onCreate = () => undefined;
      };
    });

    it('refuses to write over it: the run fails and the other write stays current', async () => {
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'store-new', code: 'store_conflict' });
      expect(w.store.versions(w.spec.store)).toHaveLength(2);
      const current = w.store.current(w.spec.store)!;
      expect(current.value?.equals(theirs)).toBe(true);
      expect(current.keyId).toBe('by-hand');
    });

    it('revokes the key it created, leaving no orphan and nothing deployed', async () => {
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(w.issuer.statusOf(run.facts.newKeyId ?? run.facts.orphansRevoked![0]!)).toBe('revoked');
      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
      expect(w.deployer.restarts).toEqual([]);
      expect(stepStatus(run, 'deploy')).toBe('skipped');
    });
  });
});
