import type { Redis } from 'ioredis';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

const MINUTE = 60_000;

describe('rollback', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    // Rollouts may take an hour here, so the rollback's own 15-minute budget is what stops it.
    w = await engineWorld(redis, {
      settings: { rolloutTimeoutMs: 60 * MINUTE, rollbackBudgetMs: 15 * MINUTE },
    });
    w.health.unhealthy.set('web-app', { status: 503, detail: 'HTTP 503' });
  });
  afterEach(() => w.close());

  /** Drives the run until verification failed and the rollback is redeploying the previous value. */
  async function intoRollback(rolloutOfPrevious: 'done' | 'stuck') {
    const { id } = await w.newRun();
    await w.drive(id, (r) => stepStatus(r, 'verify') === 'waiting');
    if (rolloutOfPrevious === 'stuck')
      w.deployer.rollouts.set('payments/web-app', { state: 'waiting', reason: 'pods pending' });
    const run = await w.drive(id, (r) => stepStatus(r, 'restore-previous') === 'done');
    w.health.unhealthy.clear();
    return { id, run };
  }

  describe('when the previous value is back in service within the budget', () => {
    it('rolls back: store, consumers and issuer as before the run, new key revoked', async () => {
      const { id } = await intoRollback('done');
      const run = await w.drive(id);
      expect(run.outcome).toBe('rolled_back');
      expect(run.steps.filter((s) => s.phase === 'rollback').map((s) => s.status)).toEqual([
        'done',
        'done',
        'done',
        'done',
      ]);
      const current = w.store.current(w.spec.store)!;
      expect(current.keyId).toBe(w.oldKey.keyId);
      expect(current.rotatedBy).toBe('seed');
      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
      expect(Date.parse(run.updatedAt) - Date.parse(run.facts.rollbackStartedAt!)).toBeLessThan(15 * MINUTE);
    });
  });

  describe('when the job stops right after the previous value was restored', () => {
    it('does not restore it a second time when the job runs again', async () => {
      w.audit.failing = (e) => e.action === 'step.completed' && e.step === 'restore-previous';
      const { id } = await w.newRun();
      await expect(w.drive(id)).rejects.toMatchObject({ code: 'audit_unavailable' });
      const versions = w.store.versions(w.spec.store).length;
      w.audit.failing = () => false;
      w.health.unhealthy.clear();

      const run = await w.drive(id);

      expect(run.outcome).toBe('rolled_back');
      expect(w.store.versions(w.spec.store)).toHaveLength(versions);
      expect(w.store.current(w.spec.store)!.keyId).toBe(w.oldKey.keyId);
      expect(run.facts.restoredVersion).toBe(versions);
    });
  });

  describe('when the version before the rotation recorded a previous key', () => {
    it('restores that version as it was, previous key included', async () => {
      const earlier = w.issuer.issue('rotator/payment-gateway-api/earlier-run');
      await w.issuer.revoke(earlier.keyId);
      const seed = w.store.current(w.spec.store)!;
      await w.store.write(
        w.spec.store,
        {
          value: seed.value!,
          keyId: seed.keyId!,
          previousValue: earlier.value,
          previousKeyId: earlier.keyId,
          rotatedAt: seed.rotatedAt!,
          rotatedBy: 'carol',
        },
        seed.version,
      );
      const base = w.store.current(w.spec.store)!;
      const { id } = await intoRollback('done');

      const run = await w.drive(id);

      expect(run.outcome).toBe('rolled_back');
      const restored = w.store.current(w.spec.store)!;
      expect(restored.version).toBe(base.version + 2);
      expect(restored).toMatchObject({
        keyId: base.keyId,
        previousKeyId: earlier.keyId,
        rotatedAt: base.rotatedAt,
        rotatedBy: 'carol',
      });
      expect(restored.value!.equals(base.value)).toBe(true);
      expect(restored.previousValue!.equals(earlier.value)).toBe(true);
    });
  });

  describe('when the rollback takes longer than its 15-minute budget', () => {
    it('stops at the budget and says the previous value must be restored by hand', async () => {
      const { id, run: started } = await intoRollback('stuck');
      const rollbackStartedAt = Date.parse(started.facts.rollbackStartedAt!);
      // The rollout of the previous value would finish after 20 minutes.
      let run = await w.drive(id, () => w.clock.now().getTime() > rollbackStartedAt + 20 * MINUTE);
      w.deployer.rollouts.clear();
      if (run.status !== 'finished') run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'redeploy-previous', code: 'timeout' });
      expect(run.failure!.message).toMatch(/15-minute budget.*manual action required/);
      const stoppedAt = Date.parse(run.steps.find((s) => s.name === 'redeploy-previous')!.endedAt!);
      expect(stoppedAt - rollbackStartedAt).toBeGreaterThan(15 * MINUTE);
      expect(stoppedAt - rollbackStartedAt).toBeLessThan(16 * MINUTE);
      expect(stepStatus(run, 'reverify-previous')).toBe('skipped');
      expect(stepStatus(run, 'notify')).toBe('done');
    });
  });
});
