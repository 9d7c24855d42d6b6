import type { Redis } from 'ioredis';
import { engineWorld, servedKeyWorks, stepStatus, type EngineWorld } from '../../helpers/engine-world';
import { testRedis } from '../../helpers/redis';

describe('RotationEngine', () => {
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

  describe('when every step succeeds', () => {
    it('rotates: new key stored and in service, old key revoked, previous cleared, lock released', async () => {
      const { id } = await w.newRun();
      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(run.status).toBe('finished');
      expect(run.steps.every((s) => s.status === 'done')).toBe(true);
      const current = w.store.current(w.spec.store)!;
      expect(current.keyId).toBe(run.facts.newKeyId);
      expect(current.previousValue).toBeUndefined();
      expect(current.rotationVerifiedAt).toEqual(expect.any(String));
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('revoked');
      expect(w.issuer.activeKeyIds()).toEqual([run.facts.newKeyId]);
      expect(await servedKeyWorks(w)).toBe(true);
      expect(run.facts.rollbackStartedAt).toBeUndefined();
      expect(await w.runs.lockHolder(w.spec.name)).toBeUndefined();
      expect(w.chat.summaries.map((r) => r.outcome)).toEqual(['succeeded']);
    });

    it('audits the start and the completion of every step, then the run', async () => {
      const { id } = await w.newRun();
      const run = await w.drive(id);
      const trail = w.audit.actions();
      for (const step of run.steps) {
        expect(trail).toContain(`step.started:${step.name}`);
        expect(trail).toContain(`step.completed:${step.name}`);
        expect(trail.indexOf(`step.started:${step.name}`)).toBeLessThan(
          trail.indexOf(`step.completed:${step.name}`),
        );
      }
      expect(trail.at(-1)).toBe('run.finished');
    });
  });

  describe('when the audit record of a step cannot be written (fail-closed)', () => {
    it('does not run the step: no key is created, the run stays where it was', async () => {
      w.audit.failing = (e) => e.action === 'step.started' && e.step === 'generate';
      const { id } = await w.newRun();

      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'audit_unavailable' });

      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
      expect(w.store.versions(w.spec.store)).toHaveLength(1);
      const run = (await w.runs.get(id))!;
      expect(stepStatus(run, 'check-dependencies')).toBe('done');
      expect(stepStatus(run, 'generate')).toBe('pending');
      expect(run.outcome).toBeUndefined();
    });

    it('goes on from there once the audit trail is back', async () => {
      w.audit.failing = (e) => e.action === 'step.started' && e.step === 'generate';
      const { id } = await w.newRun();
      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'audit_unavailable' });
      w.audit.failing = () => false;

      const run = await w.drive(id);
      expect(run.outcome).toBe('succeeded');
      expect(w.audit.actions().filter((a) => a === 'step.started:check-dependencies')).toHaveLength(1);
    });

    it('does not count a step done whose completion could not be recorded', async () => {
      w.audit.failing = (e) => e.action === 'step.completed' && e.step === 'deploy';
      const { id } = await w.newRun();
      await expect(w.drive(id)).rejects.toMatchObject({ code: 'audit_unavailable' });
      const run = (await w.runs.get(id))!;
      // Still running, or waiting as it last was: never done.
      expect(['running', 'waiting']).toContain(stepStatus(run, 'deploy'));
      expect(stepStatus(run, 'verify')).toBe('pending');
      expect(run.status).not.toBe('finished');
    });
  });

  describe("when a step's own work meets an audit outage", () => {
    // Vault-style: the store refuses to write what it cannot audit.
    beforeEach(() => {
      w.store.before = async (op, path) => {
        if (op === 'write')
          await w.audit.record({
            credential: w.spec.name,
            action: 'store.write',
            outcome: 'info',
            identity: path,
          });
      };
      w.audit.failing = (e) => e.action === 'store.write';
    });

    it('re-queues the job (it throws) and leaves the run where it is, not failed', async () => {
      const { id } = await w.newRun();

      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'audit_unavailable' });

      const run = (await w.runs.get(id))!;
      expect(run.status).not.toBe('finished');
      expect(run.outcome).toBeUndefined();
      expect(run.failure).toBeUndefined();
      expect(stepStatus(run, 'store-new')).toBe('running');
      expect(run.steps.some((s) => s.status === 'failed' || s.status === 'skipped')).toBe(false);
      expect(w.store.versions(w.spec.store)).toHaveLength(1);
      expect(await w.runs.lockHolder(w.spec.name)).toBe(id);
    });

    it('completes on a later attempt, without leaving the unstored key active', async () => {
      const { id } = await w.newRun();
      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'audit_unavailable' });
      const lost = (await w.runs.get(id))!.facts.newKeyId!;
      w.audit.failing = () => false;

      const run = await w.drive(id);
      expect(run.outcome).toBe('succeeded');
      expect(w.issuer.statusOf(lost)).toBe('revoked');
      expect(run.facts.newKeyId).toBeDefined();
      expect(w.issuer.activeKeyIds()).toStrictEqual([run.facts.newKeyId]);
      expect(w.store.current(w.spec.store)!.keyId).toBe(run.facts.newKeyId);
      expect(await servedKeyWorks(w)).toBe(true);
    });
  });

  describe('when the worker dies between creating the key and storing it', () => {
    // The job stops after generate (here: store-new's audit record fails); the new value, kept
    // only in that worker's memory, is gone when the job runs again.
    beforeEach(() => {
      w.audit.failing = (e) => e.action === 'step.started' && e.step === 'store-new';
    });

    it('revokes the key whose value was lost and generates a fresh one', async () => {
      const { id } = await w.newRun();
      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'audit_unavailable' });
      const lost = (await w.runs.get(id))!.facts.newKeyId!;
      expect(w.issuer.statusOf(lost)).toBe('active');
      w.audit.failing = () => false;

      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(w.issuer.statusOf(lost)).toBe('revoked');
      expect(run.facts.orphansRevoked).toStrictEqual([lost]);
      expect(run.facts.newKeyId).not.toBe(lost);
      expect(w.store.current(w.spec.store)!.keyId).toBe(run.facts.newKeyId);
      expect(w.issuer.activeKeyIds()).toStrictEqual([run.facts.newKeyId]);
      expect(await servedKeyWorks(w)).toBe(true);
    });

    it('goes back to generate only: the dependency check is not repeated, the redo is shown', async () => {
      const { id } = await w.newRun();
      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'audit_unavailable' });
      const lost = (await w.runs.get(id))!.facts.newKeyId!;
      w.audit.failing = () => false;

      await w.drive(id);

      const started = w.audit.actions().filter((a) => a.startsWith('step.started:'));
      expect(started.filter((a) => a === 'step.started:check-dependencies')).toHaveLength(1);
      expect(started.filter((a) => a === 'step.started:generate')).toHaveLength(2);
      expect(
        w.chat.progressed.some(
          (r) =>
            r.steps.find((s) => s.name === 'generate')?.detail ===
            `key ${lost} was never stored: revoked, generating again`,
        ),
      ).toBe(true);
    });
  });

  describe('when a consumer stays unhealthy on the new key', () => {
    beforeEach(() => {
      w.health.unhealthy.set('web-app', { status: 401, detail: 'HTTP 401' });
    });

    it('waits out the grace period, then rolls back: old key current again and valid, new key revoked', async () => {
      const { id } = await w.newRun();
      const waiting = await w.drive(id, (r) => stepStatus(r, 'verify') === 'waiting');
      expect(waiting.outcome).toBeUndefined();
      // The fault is in the new deployment: it goes away once the previous value is back.
      const run = await w.drive(id, (r) => stepStatus(r, 'restore-previous') === 'done');
      w.health.unhealthy.clear();
      const finished = run.status === 'finished' ? run : await w.drive(id);

      expect(finished.outcome).toBe('rolled_back');
      expect(finished.failure).toMatchObject({
        step: 'verify',
        code: 'verify_failed',
        hint: 'app_401_cached',
      });
      expect(w.store.current(w.spec.store)!.keyId).toBe(w.oldKey.keyId);
      expect(w.store.current(w.spec.store)!.value!.equals(w.oldKey.value)).toBe(true);
      expect(w.issuer.statusOf(w.oldKey.keyId)).toBe('active');
      expect(w.issuer.statusOf(finished.facts.newKeyId!)).toBe('revoked');
      expect(stepStatus(finished, 'revoke-old')).toBe('skipped');
      expect(await servedKeyWorks(w)).toBe(true);
    });
  });
});
