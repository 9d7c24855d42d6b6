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

  describe('when every consumer with a health check is healthy', () => {
    it('verifies exactly those consumers', async () => {
      const { id } = await w.newRun();
      const run = await w.drive(id);
      expect(run.facts.consumersVerified).toEqual(['web-app']);
      expect(run.steps.find((s) => s.name === 'verify')?.detail).toBe('new key: web-app healthy');
    });
  });

  describe('when a consumer stays unhealthy', () => {
    it.each([
      [401, 'app_401_cached'],
      [503, 'app_401_after_rotation'],
    ] as const)('after an HTTP %s the run points at the %s row', async (status, hint) => {
      w.health.unhealthy.set('web-app', { status, detail: `HTTP ${status}` });
      const { id } = await w.newRun();
      const failed = await w.drive(id, (r) => stepStatus(r, 'verify') === 'failed');
      expect(failed.failure).toMatchObject({ step: 'verify', code: 'verify_failed', hint });
      expect(failed.failure!.message).toBe(`new key: web-app (HTTP ${status}) unhealthy`);
      const verify = failed.steps.find((s) => s.name === 'verify')!;
      expect(Date.parse(verify.endedAt!) - Date.parse(verify.startedAt!)).toBeGreaterThanOrEqual(
        w.settings.verifyGraceMs,
      );
    });
  });

  describe('when the issuer no longer lists the new key as active', () => {
    it('fails verification even while the key is still accepted (revocation propagating)', async () => {
      w.issuer.propagationMs = 60 * 60_000;
      w.issuer.onCreate = async () => {
        w.issuer.onCreate = () => undefined;
        await w.issuer.revoke((await w.issuer.list()).at(-1)!.keyId); // someone revoked it at the provider
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({
        step: 'verify',
        code: 'verify_failed',
        hint: 'provider_rejects_new',
      });
      expect(run.failure!.message).toBe(
        `new key ${run.facts.newKeyId} is revoked at payment-provider.example.com`,
      );
      expect(w.store.current(w.spec.store)!.keyId).toBe(w.oldKey.keyId);
    });
  });

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
