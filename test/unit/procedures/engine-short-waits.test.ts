import type { Redis } from 'ioredis';
import { RotatorError } from '../../../src/domain/errors';
import { engineWorld, stepStatus, type EngineWorld } from '../../helpers/engine-world';
import { testRedis } from '../../helpers/redis';

/**
 * The first looks after a force-sync wait tens of milliseconds: the engine sleeps them within the
 * job instead of re-queueing it, up to a budget, and checks for an emergency takeover after each.
 */
describe('RotationEngine short waits', () => {
  let redis: Redis;
  let w: EngineWorld;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  // The default poll interval (5 s): the rollout's wait is re-queued, only the sync's looks are short.
  beforeEach(async () => {
    w = await engineWorld(redis);
  });
  afterEach(() => w.close());

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
    // Slept at least once, then gave the slot back: a bounded number of looks, no restart.
    expect(w.deployer.syncChecks.length).toBeGreaterThan(1);
    expect(w.deployer.syncChecks.length).toBeLessThan(6);
    expect(w.deployer.restarts).toHaveLength(0);
    const run = (await w.runs.get(id))!;
    expect(stepStatus(run, 'deploy')).toBe('waiting');
    expect(run.steps.find((s) => s.name === 'deploy')!.detail).toMatch(/to sync$/);
  });

  it('gives the slot back after its budget even when every look is short', async () => {
    // Every look 50 ms apart (the poll interval caps the backoff): only the budget ends the sleeping.
    await w.close();
    w = await engineWorld(redis, { settings: { pollIntervalMs: 50 } });
    w.deployer.syncsComplete = false;
    const { id } = await w.newRun();

    await expect(w.engine.advance(id)).resolves.toMatchObject({ kind: 'wait' });
    expect(w.deployer.syncChecks.length).toBeLessThanOrEqual(10);
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
    await w.close();
    w = await engineWorld(redis, { settings: { pollIntervalMs: 50 } });
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
    expect(run.steps.find((s) => s.name === 'deploy')!.detail).toMatch(/^retrying after deploy_unavailable/);
  });
});
