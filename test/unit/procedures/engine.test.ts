import { matchesDigest } from '../../../src/adapters/value-digest';
import { RotatorError } from '../../../src/domain/errors';
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

  it('saves a step boundary once: the end of a step together with the start of the next', async () => {
    const { id } = await w.newRun();
    const saved: string[][] = [];
    const save = w.runs.save.bind(w.runs);
    jest.spyOn(w.runs, 'save').mockImplementation((run, opts) => {
      saved.push(run.steps.map((s) => s.status));
      return save(run, opts);
    });

    const run = await w.drive(id);

    expect(run.outcome).toBe('succeeded');
    // No save shows a step done and the one after it not yet started.
    const between = saved.filter((steps) => steps.some((s, i) => s === 'done' && steps[i + 1] === 'pending'));
    expect(between).toEqual([]);
  });

  it('looks for the value it just stored in the synced Secret, not the one it read before the write', async () => {
    // The first job reads Vault, stores the new key and force-syncs. Looking for the value it read
    // before its own write, the Secret would "match" at once, and the restart would roll the old
    // credential out again before the old key is revoked.
    const { id } = await w.newRun();

    await w.engine.advance(id);

    const expected = w.deployer.syncChecks[0]!.expectedDigest!;
    const bytes = (secret: { reveal(): string }) => Buffer.from(secret.reveal());
    expect(matchesDigest(expected, bytes(w.store.current(w.spec.store)!.value!))).toBe(true);
    expect(matchesDigest(expected, bytes(w.oldKey.value))).toBe(false);
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

  /**
   * The first looks after a force-sync wait tens of milliseconds: the engine sleeps them within the
   * job instead of re-queueing it, up to a budget, and checks for an emergency takeover after each.
   * The default poll interval (5 s) re-queues the rollout's wait; only the sync's looks are short.
   */
  describe('short waits', () => {
    /** This test's world again, with another poll interval (which caps the sync's backoff). */
    const pollingEvery = async (pollIntervalMs: number) => {
      await w.close();
      w = await engineWorld(redis, { settings: { pollIntervalMs } });
    };

    it('looks at the sync again within the job: the first job goes on to the restart', async () => {
      const { id } = await w.newRun();

      const result = await w.engine.advance(id);

      expect(w.deployer.syncs).toHaveLength(1);
      expect(w.deployer.syncChecks).toHaveLength(1);
      expect(w.deployer.restarts).toHaveLength(1);
      expect(result.kind).toBe('wait');
      const run = (await w.runs.get(id))!;
      expect(stepStatus(run, 'deploy')).toBe('waiting');
      expect(run.steps.find((s) => s.name === 'deploy')!.detail).toMatch(/^rolling out/);
    });

    it('re-queues a sync that does not land within the budget, saved as waiting for it', async () => {
      w.deployer.syncsComplete = false;
      const { id } = await w.newRun();

      const result = await w.engine.advance(id);

      expect(result).toMatchObject({ kind: 'wait' });
      // Each look follows a wait, backing off 25, 50, 100, 200 ms: the three of 100 ms or less are
      // slept (exactly 100 ms too), the fourth is re-queued: three looks, no restart.
      expect(w.deployer.syncChecks).toHaveLength(3);
      expect(w.deployer.restarts).toHaveLength(0);
      const run = (await w.runs.get(id))!;
      expect(stepStatus(run, 'deploy')).toBe('waiting');
      expect(run.steps.find((s) => s.name === 'deploy')!.detail).toMatch(/to sync$/);
    });

    it('gives the slot back after its budget even when every look is short', async () => {
      // Every wait 25 ms (the poll interval caps the backoff): only the budget ends the sleeping,
      // once sixteen sleeps make exactly its 400 ms: sixteen looks, the seventeenth wait re-queued.
      await pollingEvery(25);
      w.deployer.syncsComplete = false;
      const { id } = await w.newRun();

      await expect(w.engine.advance(id)).resolves.toMatchObject({ kind: 'wait', delayMs: 25 });
      expect(w.deployer.syncChecks).toHaveLength(16);
    });

    it('re-queues a wait it can be woken from, however short, and hands the job its wake', async () => {
      await pollingEvery(50);
      const [consumer] = w.deployer.discovered;
      w.deployer.rollouts.set(`${consumer!.namespace}/${consumer!.deployment}`, {
        state: 'waiting',
        reason: '1 of 2 updated',
      });
      const watched = new Promise<boolean>(() => undefined);
      let watches = 0;
      w.deployer.rolloutsSettled = () => {
        watches++;
        return watched;
      };
      const { id } = await w.newRun();

      const result = await w.engine.advance(id);

      // Not slept in the job (the watch says when): one look at the rollout, its wake passed on.
      expect(result).toMatchObject({ kind: 'wait', delayMs: 50 });
      expect(result.kind === 'wait' && result.wake).toBe(watched);
      expect(watches).toBe(1);
      expect(w.deployer.restarts).toHaveLength(1);
    });

    it('stops at an emergency that took the credential over during the sleep, before any restart', async () => {
      w.deployer.before = async (op) => {
        if (op === 'forceSync') await w.runs.takeOver(w.spec.name, 'emergency-run', 60_000);
      };
      const { id } = await w.newRun();

      const result = await w.engine.advance(id);

      expect(result.kind).toBe('finished');
      const run = (await w.runs.get(id))!;
      expect(run.failure).toMatchObject({ code: 'taken_over' });
      expect(w.deployer.syncChecks).toHaveLength(0);
      expect(w.deployer.restarts).toHaveLength(0);
    });

    it("re-queues a failure's retry however short, so the run shows why it waits", async () => {
      // A poll interval short enough that the retry would be slept were it not a retry.
      await pollingEvery(50);
      let failures = 0;
      w.deployer.before = (op) => {
        if (op === 'synced' && failures++ === 0)
          throw new RotatorError('deploy_unavailable', 'Kubernetes API unavailable (503)', {
            transient: true,
          });
      };
      const { id } = await w.newRun();

      const result = await w.engine.advance(id);

      expect(result).toMatchObject({ kind: 'wait', delayMs: 50 });
      expect(w.deployer.restarts).toHaveLength(0);
      const run = (await w.runs.get(id))!;
      expect(run.steps.find((s) => s.name === 'deploy')!.detail).toMatch(
        /^retrying after deploy_unavailable/,
      );
    });
  });
});
