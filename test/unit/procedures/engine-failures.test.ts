import type { Redis } from 'ioredis';
import { RotatorError } from '../../../src/domain/errors';
import { engineWorld, servedKeyWorks, stepStatus, type EngineWorld } from '../../helpers/engine-world';
import { testRedis } from '../../helpers/redis';

const MINUTE = 60_000;
const unavailable = (code: 'issuer_unavailable' | 'store_unavailable', context = {}) =>
  new RotatorError(code, `${code} (503)`, { transient: true, context });

describe('RotationEngine when things go wrong', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    w = await engineWorld(redis, { settings: { pollIntervalMs: 5_000, transientRetryMs: 5 * MINUTE } });
  });
  afterEach(() => w.close());

  const finishedAudit = () => w.audit.entries.find((e) => e.action === 'run.finished');

  describe('when a dependency fails transiently', () => {
    it('re-queues the step after the poll interval instead of failing, and completes once it recovers', async () => {
      w.issuer.before = (op) => {
        if (op === 'create') throw unavailable('issuer_unavailable');
      };
      const { id } = await w.newRun();

      const first = await w.engine.advance(id);
      expect(first).toMatchObject({ kind: 'wait', delayMs: 5_000 });
      const waiting = (await w.runs.get(id))!;
      expect(stepStatus(waiting, 'generate')).toBe('waiting');
      expect(waiting.steps.find((s) => s.name === 'generate')?.detail).toContain('issuer_unavailable');

      w.issuer.before = () => undefined;
      expect((await w.drive(id)).outcome).toBe('succeeded');
    });

    it('waits as long as the service asks (Retry-After), never less than the poll interval', async () => {
      w.issuer.before = (op) => {
        if (op === 'create') throw unavailable('issuer_unavailable', { retryAfterMs: 90_000 });
      };
      const { id } = await w.newRun();
      expect(await w.engine.advance(id)).toMatchObject({ kind: 'wait', delayMs: 90_000 });
    });

    it('fails the step once it has kept failing for transientRetryMs', async () => {
      w.issuer.before = (op) => {
        if (op === 'create') throw unavailable('issuer_unavailable');
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'generate', code: 'issuer_unavailable' });
      const generate = run.steps.find((s) => s.name === 'generate')!;
      const failedAfter = Date.parse(generate.endedAt!) - Date.parse(generate.startedAt!);
      expect(failedAfter).toBeGreaterThanOrEqual(5 * MINUTE);
      expect(failedAfter).toBeLessThan(5 * MINUTE + 10_000);
      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
    });

    it('fails store-new at once: a re-queue would lose the new value anyway', async () => {
      w.store.before = (op) => {
        if (op === 'write') throw unavailable('store_unavailable');
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'store-new', code: 'store_unavailable' });
      const storeNew = run.steps.find((s) => s.name === 'store-new')!;
      expect(storeNew.endedAt).toBe(storeNew.startedAt);
      expect(w.issuer.activeKeyIds()).toEqual([w.oldKey.keyId]);
      expect(run.facts.orphansRevoked).toEqual([run.facts.newKeyId]);
      expect(run.facts.rollbackStartedAt).toBeUndefined();
      expect(w.audit.entries.find((e) => e.action === 'step.failed')).toMatchObject({
        step: 'store-new',
        outcome: 'failed',
      });
      expect(await servedKeyWorks(w)).toBe(true);
    });
  });

  describe('when the new key cannot be revoked after store-new failed', () => {
    it('says so in the failure, leaving the key for the next orphan sweep', async () => {
      w.store.before = (op) => {
        if (op === 'write') throw new RotatorError('store_permission_denied', 'Vault denied update (403)');
      };
      w.issuer.before = (op) => {
        if (op === 'revoke') throw unavailable('issuer_unavailable');
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ code: 'store_permission_denied', hint: 'vault_permission_denied' });
      expect(run.failure!.message).toContain(`new key ${run.facts.newKeyId} could not be revoked yet`);
      expect(run.facts.orphansRevoked).toBeUndefined();
      expect(w.issuer.statusOf(run.facts.newKeyId!)).toBe('active');
    });
  });

  describe('when a step throws something that is not a coded error', () => {
    it('fails the run as internal without repeating the error’s text', async () => {
      let restarts = 0;
      w.deployer.before = (op) => {
        if (op === 'restart' && ++restarts === 1)
          throw new Error('socket hang up token=sk_live_should_not_show');
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({ step: 'deploy', code: 'internal' });
      expect(JSON.stringify(run)).not.toContain('sk_live_should_not_show');
      expect(JSON.stringify(w.audit.entries)).not.toContain('sk_live_should_not_show');
    });
  });

  describe('when another run holds the credential’s lock', () => {
    it('refuses to advance and does nothing', async () => {
      await w.runs.acquire(w.spec.name, 'someone-else', MINUTE);
      const { id } = await w.newRun();

      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'locked' });
      expect(w.audit.entries).toEqual([]);
      expect(stepStatus((await w.runs.get(id))!, 'check-dependencies')).toBe('pending');
    });
  });

  describe('when the credential left the catalog', () => {
    it('refuses to advance', async () => {
      const { id } = await w.newRun();
      w.deps.catalog.clear();
      await expect(w.engine.advance(id)).rejects.toMatchObject({ code: 'unknown_credential' });
      expect(await w.runs.lockHolder(w.spec.name)).toBeUndefined();
    });
  });

  describe('when the run has already finished', () => {
    it('returns it as it is', async () => {
      const { id } = await w.newRun();
      await w.drive(id);
      const trail = w.audit.entries.length;
      const again = await w.engine.advance(id);
      expect(again.kind).toBe('finished');
      expect(w.audit.entries).toHaveLength(trail);
    });
  });

  describe('when the run does not exist', () => {
    it('says so', async () => {
      await expect(w.engine.advance('no-such-run')).rejects.toMatchObject({ code: 'internal' });
    });
  });

  describe('when chat fails', () => {
    it('a progress update that fails does not hold up the rotation', async () => {
      w.chat.progressError = new Error('ratelimited');
      const { id } = await w.newRun();
      expect((await w.drive(id)).outcome).toBe('succeeded');
    });

    it('keeps the progress message’s ts on runs started from Slack', async () => {
      const run = await w.newRun();
      await w.runs.save({ ...run, slack: { channel: 'C_PLATFORM', threadTs: '1.1' } });
      const done = await w.drive(run.id);
      expect(done.slack).toEqual({ channel: 'C_PLATFORM', threadTs: '1.1', progressTs: w.chat.progressTs });
    });

    it('a summary that cannot be posted keeps the outcome and says the summary is missing', async () => {
      w.chat.summaryError = new RotatorError('internal', 'Slack answered not_in_channel');
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(run.failure).toBeUndefined();
      expect(run.notifyError).toContain('not_in_channel');
      expect(stepStatus(run, 'notify')).toBe('failed');
      expect(finishedAudit()?.outcome).toBe('succeeded');
    });
  });

  describe('the audit record of the finished run', () => {
    it('says refused for a refused run and failed for a rolled-back one', async () => {
      w.deployer.discovered.push({ namespace: 'payments', deployment: 'reconciler', via: ['env'] });
      const refused = await w.newRun();
      await w.drive(refused.id);
      expect(finishedAudit()).toMatchObject({
        outcome: 'refused',
        detail: expect.stringMatching(/^refused: /),
      });

      w.deployer.discovered.pop();
      w.audit.entries.length = 0;
      w.deployer.rollouts.set('payments/web-app', { state: 'failed', reason: 'ProgressDeadlineExceeded' });
      const rolledBack = await w.newRun();
      w.deployer.before = (op) => {
        if (op === 'restart' && w.store.current(w.spec.store)?.keyId === w.oldKey.keyId)
          w.deployer.rollouts.clear();
      };
      const run = await w.drive(rolledBack.id);
      expect(run.outcome).toBe('rolled_back');
      expect(finishedAudit()).toMatchObject({ outcome: 'failed', identity: 'cli:alice' });
    });
  });

  describe('abandon (the job gave up)', () => {
    it('fails the run at the step it was in, skips the rest, posts the summary and frees the lock', async () => {
      w.deployer.rollouts.set('payments/web-app', { state: 'waiting', reason: '1 of 2 updated' });
      const { id } = await w.newRun();
      await w.drive(id, (r) => stepStatus(r, 'deploy') === 'waiting');

      await w.engine.abandon(id, 'attempts exhausted');

      const run = (await w.runs.get(id))!;
      expect(run.status).toBe('finished');
      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'deploy', code: 'abandoned' });
      expect(run.failure!.message).toContain('attempts exhausted');
      expect(run.steps.map((s) => s.status)).toEqual([
        'done',
        'done',
        'done',
        'failed',
        'skipped',
        'skipped',
        'skipped',
        'done',
      ]);
      expect(w.chat.summaries.map((r) => r.failure?.code)).toEqual(['abandoned']);
      expect(await w.runs.lockHolder(w.spec.name)).toBeUndefined();
      expect(finishedAudit()).toMatchObject({ outcome: 'failed' });
    });

    it('marks notify failed when the summary cannot be posted either', async () => {
      w.chat.summaryError = new Error('slack down');
      const { id } = await w.newRun();
      await w.engine.abandon(id, 'attempts exhausted');
      const run = (await w.runs.get(id))!;
      expect(run.failure).toMatchObject({ step: 'check-dependencies', code: 'abandoned' });
      expect(run.notifyError).toBe('slack down');
      expect(stepStatus(run, 'notify')).toBe('failed');
    });

    it('leaves a finished run alone', async () => {
      const { id } = await w.newRun();
      const done = await w.drive(id);
      await w.engine.abandon(id, 'late');
      expect(await w.runs.get(id)).toEqual(done);
    });
  });
});
