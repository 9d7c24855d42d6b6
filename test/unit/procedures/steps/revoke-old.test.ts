import type { Redis } from 'ioredis';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { testRedis } from '../../../helpers/redis';

const MINUTE = 60_000;

describe('revoke-old', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    w = await engineWorld(redis, { settings: { quietWindowMs: 5 * MINUTE, propagationMs: 15 * MINUTE } });
  });
  afterEach(() => w.close());

  describe('right after every consumer was redeployed', () => {
    it('watches the old key for the quiet window before revoking it', async () => {
      const { id } = await w.newRun();
      const watching = await w.drive(id, (r) => stepStatus(r, 'revoke-old') === 'waiting');
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('active');
      expect(watching.steps.find((s) => s.name === 'revoke-old')?.detail).toContain('undeclared consumer');

      const run = await w.drive(id);
      expect(run.outcome).toBe('succeeded');
      expect(Date.parse(run.facts.revokedAt!) - Date.parse(run.facts.deployedAt!)).toBeGreaterThanOrEqual(
        5 * MINUTE,
      );
    });

    it('looks at the old key at least every ten polls, and revokes it as the window ends', async () => {
      await w.close();
      w = await engineWorld(redis, {
        settings: { quietWindowMs: 5 * MINUTE, propagationMs: 15 * MINUTE, pollIntervalMs: 7_000 },
      });
      const watching: number[] = [];
      const advance = w.engine.advance.bind(w.engine);
      jest.spyOn(w.engine, 'advance').mockImplementation(async (runId) => {
        const result = await advance(runId);
        const run = (await w.runs.get(runId))!;
        if (result.kind === 'wait' && stepStatus(run, 'revoke-old') === 'waiting' && !run.facts.revokedAt)
          watching.push(result.delayMs);
        return result;
      });
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      // Ten polls of 7 s at most between looks, the last one only what is left of the 5 minutes.
      expect(watching).toEqual([70_000, 70_000, 70_000, 70_000, 20_000]);
      expect(Date.parse(run.facts.revokedAt!) - Date.parse(run.facts.deployedAt!)).toBe(5 * MINUTE);
    });
  });

  describe('when a forgotten consumer uses the old key during the quiet window', () => {
    it('refuses to revoke it, keeps it in the store as previous, and names the key and the time', async () => {
      const { id } = await w.newRun();
      await w.drive(id, (r) => stepStatus(r, 'revoke-old') === 'waiting');
      w.clock.advance(MINUTE);
      const usedAt = w.clock.now().toISOString();
      w.issuer.use(w.oldKey.value);

      const run = await w.drive(id);

      expect(run.outcome).toBe('refused');
      expect(run.failure).toMatchObject({
        step: 'revoke-old',
        code: 'old_key_in_use',
        hint: 'cannot_revoke_old',
      });
      expect(run.failure!.message).toContain(w.oldKey.keyId);
      expect(run.failure!.message).toContain(usedAt);
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('active');
      expect(w.store.current(w.spec.store)!.previousKeyId).toBe(w.oldKey.keyId);
      expect(stepStatus(run, 'record')).toBe('skipped');
    });
  });

  describe('when the old key was last used before the consumers were redeployed', () => {
    it('revokes it', async () => {
      const usedAt = w.clock.now().toISOString();
      w.issuer.use(w.oldKey.value);
      w.clock.advance(MINUTE);
      const { id } = await w.newRun();
      const run = await w.drive(id);
      expect(run.outcome).toBe('succeeded');
      expect(run.facts.oldKeyLastUsedAt).toBe(usedAt);
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('revoked');
    });
  });

  describe('when the store never recorded the old key’s id', () => {
    it('fails without revoking anything and says to revoke it by hand', async () => {
      const base = w.store.current(w.spec.store)!;
      await w.store.write(
        w.spec.store,
        { value: base.value!, rotatedAt: base.rotatedAt!, rotatedBy: 'seed' },
        base.version,
      );
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({
        step: 'revoke-old',
        code: 'issuer_rejected',
        hint: 'cannot_revoke_old',
      });
      expect(run.failure!.message).toContain('by hand');
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('active');
      expect(w.issuer.statusOf(run.facts.newKeyId!)).toBe('active');
    });
  });

  describe('when the provider still accepts the old key after revoking it', () => {
    it('waits for the propagation delay and succeeds once the key is rejected', async () => {
      w.issuer.propagationMs = 10 * MINUTE;
      const { id } = await w.newRun();
      const pending = await w.drive(id, (r) => r.facts.revokedAt !== undefined);
      expect(stepStatus(pending, 'revoke-old')).toBe('waiting');
      expect(await w.issuer.accepts(w.oldKey.value)).toBe(true);

      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(await w.issuer.accepts(w.oldKey.value)).toBe(false);
      expect(Date.parse(run.steps.find((s) => s.name === 'revoke-old')!.endedAt!)).toBeGreaterThanOrEqual(
        Date.parse(run.facts.revokedAt!) + 10 * MINUTE,
      );
    });

    it('looks again on the poll interval counted from the revocation, however late the last look came', async () => {
      w.issuer.propagationMs = 10 * MINUTE;
      const { id } = await w.newRun();
      const pending = await w.drive(id, (r) => r.facts.revokedAt !== undefined);
      const revokedAt = Date.parse(pending.facts.revokedAt!);
      const every = w.settings.pollIntervalMs;
      // The next look's job ran a third of an interval late.
      w.clock.advance(every + Math.round(every / 3));

      const result = await w.engine.advance(id);

      expect(result.kind).toBe('wait');
      const lookAt = w.clock.now().getTime() + (result.kind === 'wait' ? result.delayMs : NaN);
      expect((lookAt - revokedAt) % every).toBe(0);
      expect(lookAt - revokedAt).toBe(2 * every);
    });

    it('fails with the runbook’s propagation row when the key is still accepted after propagationMs', async () => {
      w.issuer.propagationMs = 60 * MINUTE;
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({
        step: 'revoke-old',
        code: 'old_key_still_active',
        hint: 'old_key_active_after_revoke',
      });
      const failedAt = Date.parse(run.steps.find((s) => s.name === 'revoke-old')!.endedAt!);
      expect(failedAt - Date.parse(run.facts.revokedAt!)).toBeGreaterThan(15 * MINUTE);
      expect(failedAt - Date.parse(run.facts.revokedAt!)).toBeLessThan(20 * MINUTE);
      expect(stepStatus(run, 'record')).toBe('skipped');
    });
  });
});
