import type { Redis } from 'ioredis';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

describe('check-dependencies', () => {
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

  const nothingChanged = () => {
    expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
    expect(w.store.versions(w.spec.store)).toHaveLength(1);
    expect(w.deployer.restarts).toEqual([]);
  };

  describe('when a deployment in the credential’s namespace uses the secret but is not declared', () => {
    it('refuses the run before any key is made, naming the deployment', async () => {
      w.deployer.discovered.push({ namespace: 'payments', deployment: 'reconciler', via: ['envFrom'] });
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('refused');
      expect(run.failure).toMatchObject({ step: 'check-dependencies', code: 'old_key_in_use' });
      expect(run.failure!.message).toContain('payments/reconciler');
      expect(stepStatus(run, 'generate')).toBe('skipped');
      expect(w.audit.entries.find((e) => e.action === 'step.failed')).toMatchObject({
        step: 'check-dependencies',
        outcome: 'refused',
      });
      nothingChanged();
    });
  });

  describe('when the same secret name is used in a namespace the credential is not deployed to', () => {
    it('does not count it, and rotates', async () => {
      w.deployer.discovered.push({ namespace: 'staging', deployment: 'reconciler', via: ['env'] });
      const { id } = await w.newRun();
      expect((await w.drive(id)).outcome).toBe('succeeded');
    });
  });

  describe('when a declared consumer no longer references the secret', () => {
    it('refuses the run and names the consumer', async () => {
      w.deployer.discovered = w.deployer.discovered.filter((d) => d.deployment !== 'batch-processor');
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('refused');
      expect(run.failure).toMatchObject({ step: 'check-dependencies', code: 'deploy_failed' });
      expect(run.failure!.message).toContain('batch-processor');
      nothingChanged();
    });
  });

  describe('when the store has no current value', () => {
    it('fails the run without touching the issuer', async () => {
      w.store.destroy(w.spec.store);
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'check-dependencies', code: 'store_missing' });
      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
    });
  });

  describe('when the store still records a key before the current one, but it is revoked', () => {
    it('rotates: only a key still active at the issuer stops a rotation', async () => {
      const previous = w.issuer.issue('rotator/payment-gateway-api/earlier-run');
      await w.issuer.revoke(previous.keyId);
      const base = w.store.current(w.spec.store)!;
      await w.store.write(
        w.spec.store,
        {
          ...base,
          value: base.value!,
          rotatedAt: base.rotatedAt!,
          rotatedBy: 'seed',
          previousValue: previous.value,
          previousKeyId: previous.keyId,
        },
        base.version,
      );
      const { id } = await w.newRun();
      expect((await w.drive(id)).outcome).toBe('succeeded');
    });
  });

  describe('when the key before the current one is still active at the issuer', () => {
    it('refuses to rotate again, naming that key', async () => {
      const previous = w.issuer.issue('rotator/payment-gateway-api/earlier-run');
      const base = w.store.current(w.spec.store)!;
      await w.store.write(
        w.spec.store,
        {
          ...base,
          previousValue: previous.value,
          previousKeyId: previous.keyId,
          rotatedAt: base.rotatedAt!,
          rotatedBy: 'seed',
          value: base.value!,
        },
        base.version,
      );
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('refused');
      expect(run.failure).toMatchObject({ code: 'old_key_in_use', hint: 'cannot_revoke_old' });
      expect(run.failure!.message).toContain(previous.keyId);
      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId, previous.keyId]);
    });
  });
});
