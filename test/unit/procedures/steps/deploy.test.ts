import { matchesDigest } from '../../../../src/adapters/value-digest';
import type { Redis } from 'ioredis';
import { engineWorld, stepStatus, type EngineWorld } from '../../../helpers/engine-world';
import { specFixture } from '../../../helpers/fixtures';
import { testRedis } from '../../../helpers/redis';
import { RotatorError } from '../../../../src/domain/errors';

const MINUTE = 60_000;

describe('deploy', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    w = await engineWorld(redis, { settings: { rolloutTimeoutMs: 10 * MINUTE } });
  });
  afterEach(() => w.close());

  const deployStep = (run: { steps: Array<{ name: string; detail?: string }> }) =>
    run.steps.find((s) => s.name === 'deploy');

  describe('when the cluster syncs and rolls out', () => {
    it('force-syncs the shared ExternalSecret once and restarts only the consumers that read at startup', async () => {
      const { id } = await w.newRun();
      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(w.deployer.syncs.filter((s) => s.at <= run.facts.deployedAt!)).toEqual([
        {
          namespace: 'payments',
          name: 'payment-gateway-secret',
          at: run.facts.deploys!.forward!.syncRequestedAt,
        },
      ]);
      expect(w.deployer.restarts.map((r) => r.ref.deployment)).toEqual(['web-app']);
      expect(run.facts.consumersRestarted).toEqual(['web-app']);
      expect(run.facts.consumersNextJob).toEqual(['batch-processor']);
      expect(deployStep(run)?.detail).toBe(
        'restarted web-app; synced payment-gateway-secret; next job uses new: batch-processor',
      );
    });

    it('counts a sync only when the Secret holds the store’s new value (by digest)', async () => {
      const { id } = await w.newRun();
      await w.drive(id, (r) => stepStatus(r, 'deploy') === 'done');
      const stored = w.store.current(w.spec.store)!;
      const digests = w.deployer.syncChecks.map((c) => c.expectedDigest);
      expect(digests).toHaveLength(1);
      expect(matchesDigest(digests[0]!, Buffer.from(stored.value!.reveal()))).toBe(true);
      expect(matchesDigest(digests[0]!, Buffer.from(`${stored.value!.reveal()}x`))).toBe(false);
    });
  });

  describe('when the ExternalSecret has not synced yet', () => {
    it('waits without restarting anything, patching once and asking again with the same sync time', async () => {
      w.deployer.syncsComplete = false;
      const { id } = await w.newRun();
      const waiting = await w.drive(id, (r) => stepStatus(r, 'deploy') === 'waiting');
      await w.drive(id, () => w.deployer.syncChecks.length >= 3);

      expect(deployStep(waiting)?.detail).toBe('waiting for payment-gateway-secret to sync');
      expect(w.deployer.restarts).toEqual([]);
      expect(w.deployer.syncs).toHaveLength(1);
      expect(new Set(w.deployer.syncChecks.map((s) => s.since))).toEqual(new Set([w.deployer.syncs[0]!.at]));

      w.deployer.syncsComplete = true;
      expect((await w.drive(id)).outcome).toBe('succeeded');
    });

    it('fails the deploy after the rollout timeout with the runbook’s sync row, and rolls back', async () => {
      w.deployer.syncsComplete = false;
      const { id } = await w.newRun();
      const failed = await w.drive(id, (r) => stepStatus(r, 'deploy') === 'failed');
      expect(failed.failure).toMatchObject({
        step: 'deploy',
        code: 'deploy_failed',
        hint: 'app_401_after_rotation',
      });
      expect(failed.outcome).toBe('rolled_back');
      const deploy = failed.steps.find((s) => s.name === 'deploy')!;
      expect(Date.parse(deploy.endedAt!) - Date.parse(deploy.startedAt!)).toBeGreaterThan(10 * MINUTE);
    });
  });

  describe('when a rollout fails', () => {
    it('fails the deploy with the rollout row and rolls back onto the previous key', async () => {
      w.deployer.rollouts.set('payments/web-app', { state: 'failed', reason: 'ProgressDeadlineExceeded' });
      w.deployer.before = (op) => {
        if (op === 'restart' && w.store.current(w.spec.store)?.keyId === w.oldKey.keyId)
          w.deployer.rollouts.clear();
      };
      const { id } = await w.newRun();

      const run = await w.drive(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({
        step: 'deploy',
        code: 'deploy_failed',
        hint: 'rollout_incomplete',
      });
      expect(run.failure!.message).toContain('rollout of web-app failed: ProgressDeadlineExceeded');
      const [forward, back] = w.deployer.restarts;
      expect(Date.parse(back!.at) - Date.parse(forward!.at)).toBeGreaterThanOrEqual(1_000);
    });
  });

  describe('when a rollout does not finish within the rollout timeout', () => {
    it('fails the deploy with the runbook’s timeout row', async () => {
      w.deployer.rollouts.set('payments/web-app', { state: 'waiting', reason: '1 of 2 updated' });
      const { id } = await w.newRun();
      const waiting = await w.drive(id, (r) => deployStep(r)?.detail === 'rolling out web-app');
      expect(stepStatus(waiting, 'deploy')).toBe('waiting');

      const failed = await w.drive(id, (r) => stepStatus(r, 'deploy') === 'failed');
      expect(failed.failure).toMatchObject({ code: 'deploy_failed', hint: 'integration_timeout' });
      expect(failed.failure!.message).toContain('rollout of web-app did not finish within 600s');
      // Ten minutes of polls, one restart patch: the rollout is looked at, never re-triggered.
      expect(
        w.deployer.restarts.filter((r) => r.at === failed.facts.deploys!.forward!.restartRequestedAt),
      ).toHaveLength(1);
    });
  });

  describe('when a restart patch fails for one consumer', () => {
    it('patches again only the one that failed', async () => {
      await w.close();
      const spec = specFixture();
      spec.consumers = [
        ...spec.consumers,
        {
          name: 'api-gateway',
          reload: 'startup',
          kubernetes: {
            namespace: 'payments',
            deployment: 'api-gateway',
            externalSecret: 'payment-gateway-secret',
          },
        },
      ];
      w = await engineWorld(redis, { spec });
      let refused = false;
      const original = w.deployer.restart.bind(w.deployer);
      w.deployer.restart = async (ref, at) => {
        if (ref.deployment === 'api-gateway' && !refused) {
          refused = true;
          throw new RotatorError('deploy_unavailable', 'HTTP 503', { transient: true });
        }
        return original(ref, at);
      };
      const { id } = await w.newRun();
      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      expect(refused).toBe(true);
      expect(w.deployer.restarts.map((r) => r.ref.deployment).sort()).toEqual(['api-gateway', 'web-app']);
    });
  });

  describe('when a consumer re-reads the secret itself', () => {
    it('waits out its cache after the sync instead of restarting it', async () => {
      await w.close();
      const spec = specFixture();
      spec.consumers = spec.consumers.map((c) =>
        c.name === 'fraud-scorer' ? { ...c, cacheTtlSeconds: 120 } : c,
      );
      w = await engineWorld(redis, { spec });
      const { id } = await w.newRun();

      const waiting = await w.drive(
        id,
        (r) => deployStep(r)?.detail === "waiting for dynamic consumers' cache to expire",
      );
      expect(stepStatus(waiting, 'deploy')).toBe('waiting');
      const run = await w.drive(id);

      expect(run.outcome).toBe('succeeded');
      const synced = Date.parse(run.facts.deploys!.forward!.syncedAt!);
      expect(Date.parse(run.facts.deployedAt!) - synced).toBeGreaterThanOrEqual(120_000);
      // Re-checks never patch again: one restart, of web-app.
      expect(w.deployer.restarts.map((r) => `${r.ref.deployment}@${r.at}`)).toEqual([
        `web-app@${run.facts.deploys!.forward!.restartRequestedAt}`,
      ]);
    });
  });
});
