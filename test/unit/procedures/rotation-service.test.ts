import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import IORedis, { type Redis } from 'ioredis';
import pino from 'pino';
import type { Identity } from '../../../src/domain/run';
import { Secret } from '../../../src/domain/secret';
import { RotationService, type RotationServiceDeps } from '../../../src/procedures/rotation-service';
import { ROTATIONS_QUEUE, rotationJobId, type RotationJobData } from '../../../src/queue/names';
import { RunStore } from '../../../src/queue/run-store';
import { FakeAuditLog, FakeClock, FakeDeployer, FakeSecretStore } from '../../helpers/fakes';
import { CREDENTIAL, specFixture, STORE_PATH } from '../../helpers/fixtures';
import { deletePrefix, REDIS_URL, testRedis } from '../../helpers/redis';

const DAY_MS = 86_400_000;
const alice: Identity = { kind: 'slack', id: 'U_ALICE', name: 'alice' };
const bob: Identity = { kind: 'slack', id: 'U_BOB', name: 'bob' };

describe('RotationService', () => {
  let redis: Redis;
  let prefix: string;
  let queue: Queue<RotationJobData>;
  let clock: FakeClock;
  let store: FakeSecretStore;
  let deployer: FakeDeployer;
  let audit: FakeAuditLog;
  let runs: RunStore;
  let service: RotationService;

  const deps = (): RotationServiceDeps => ({
    catalog: new Map([[CREDENTIAL, specFixture()]]),
    store,
    deployer,
    runs,
    queue,
    audit,
    clock,
    logger: pino({ level: 'silent' }),
    lockTtlMs: 3_600_000,
    dueSoonDays: 14,
  });
  const jobs = () => queue.getJobs(['waiting', 'delayed', 'active', 'completed', 'failed']);

  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(async () => {
    prefix = `test-${randomUUID()}`;
    queue = new Queue<RotationJobData>(ROTATIONS_QUEUE, { connection: redis, prefix });
    clock = new FakeClock();
    store = new FakeSecretStore(clock);
    deployer = FakeDeployer.matching(specFixture());
    audit = new FakeAuditLog(clock);
    runs = new RunStore(redis, prefix);
    service = new RotationService(deps());
    await store.write(
      STORE_PATH,
      {
        value: new Secret('sk_live_current_value_for_tests'),
        keyId: 'key-1',
        rotatedAt: new Date(clock.now().getTime() - 40 * DAY_MS).toISOString(),
        rotatedBy: 'seed',
        metadata: { issuer: 'payment-provider.example.com', consumers: ['web-app', 'batch-processor'] },
      },
      0,
    );
  });
  afterEach(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await deletePrefix(redis, prefix);
  });

  describe('start', () => {
    it('saves the run, takes the credential’s lock and enqueues one job that carries only the run id', async () => {
      const run = await service.start({ credential: CREDENTIAL, requester: alice, approver: bob });

      expect(await runs.get(run.id)).toMatchObject({ id: run.id, status: 'queued', approver: bob });
      expect(await runs.lockHolder(CREDENTIAL)).toBe(run.id);
      const all = await jobs();
      expect(all.map((j) => [j.id, j.data])).toEqual([[rotationJobId(run.id), { runId: run.id }]]);
      expect(audit.entries).toEqual([
        expect.objectContaining({
          runId: run.id,
          action: 'run.requested',
          identity: 'slack:alice',
          detail: 'approved by slack:bob',
        }),
      ]);
    });

    describe('when a run of the credential is in progress', () => {
      it('refuses, naming the holder, audits the refusal and enqueues nothing more', async () => {
        const first = await service.start({ credential: CREDENTIAL, requester: alice });

        await expect(service.start({ credential: CREDENTIAL, requester: bob })).rejects.toMatchObject({
          code: 'locked',
          context: { runId: first.id },
          message: expect.stringContaining(first.id),
        });

        expect((await jobs()).map((j) => j.data.runId)).toEqual([first.id]);
        expect((await runs.history(CREDENTIAL)).map((r) => r.id)).toEqual([first.id]);
        expect(await runs.lockHolder(CREDENTIAL)).toBe(first.id);
        expect(audit.entries.at(-1)).toMatchObject({
          action: 'run.refused',
          outcome: 'refused',
          identity: 'slack:bob',
        });
      });
    });

    describe('when the request cannot be audited', () => {
      it('starts nothing and frees the lock', async () => {
        audit.failing = (e) => e.action === 'run.requested';

        await expect(service.start({ credential: CREDENTIAL, requester: alice })).rejects.toMatchObject({
          code: 'queue_unavailable',
          message: expect.stringContaining('nothing was started'),
        });

        expect(await jobs()).toEqual([]);
        expect(await runs.lockHolder(CREDENTIAL)).toBeUndefined();
      });
    });

    describe('when the queue is unreachable', () => {
      let down: Redis;
      beforeEach(() => {
        // A connection that is already closed: every command fails at once, nothing reconnects.
        down = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0 });
        down.disconnect();
      });

      it('says nothing was started and frees the lock for the next request', async () => {
        const unreachable = new Queue<RotationJobData>(ROTATIONS_QUEUE, { connection: down, prefix });
        unreachable.on('error', () => undefined);
        service = new RotationService({ ...deps(), queue: unreachable });

        await expect(service.start({ credential: CREDENTIAL, requester: alice })).rejects.toMatchObject({
          code: 'queue_unavailable',
          transient: true,
        });

        expect(await runs.lockHolder(CREDENTIAL)).toBeUndefined();
        await unreachable.close().catch(() => undefined);
      });
    });

    describe('when the job was added but the answer was lost', () => {
      it('keeps the run and its lock: the job is real', async () => {
        class LosingAnswers extends Queue<RotationJobData> {
          override async add(...args: Parameters<Queue<RotationJobData>['add']>): Promise<never> {
            await super.add(...args);
            throw new Error('socket closed before the reply');
          }
        }
        const flaky = new LosingAnswers(ROTATIONS_QUEUE, { connection: redis, prefix });
        service = new RotationService({ ...deps(), queue: flaky });

        const run = await service.start({ credential: CREDENTIAL, requester: alice });

        expect(await runs.lockHolder(CREDENTIAL)).toBe(run.id);
        expect((await jobs()).map((j) => j.data.runId)).toEqual([run.id]);
        await flaky.close();
      });
    });

    it('refuses an invalid or unknown name before touching Redis', async () => {
      await expect(service.start({ credential: 'Payment Gateway', requester: alice })).rejects.toMatchObject({
        code: 'invalid_name',
      });
      await expect(service.start({ credential: 'no-such-thing', requester: alice })).rejects.toMatchObject({
        code: 'unknown_credential',
      });
      expect(await jobs()).toEqual([]);
      expect(audit.entries).toEqual([]);
    });
  });

  describe('plan', () => {
    it('shows age against policy and consumers found in the cluster', async () => {
      const plan = await service.plan(CREDENTIAL);
      expect(plan.age).toMatchObject({ status: 'overdue', ageDays: 40, maxAgeDays: 30 });
      expect(plan.undeclared).toEqual([]);
      expect(plan.missing).toEqual([]);
      expect(plan.consumers.find((c) => c.name === 'web-app')?.foundInCluster).toBe(true);
    });

    it('shows undeclared deployments, missing consumers and drift from the store’s metadata', async () => {
      deployer.discovered = [
        { namespace: 'payments', deployment: 'web-app', via: ['env'] },
        { namespace: 'payments', deployment: 'reconciler', via: ['env'] },
      ];
      const plan = await service.plan(CREDENTIAL);
      expect(plan.undeclared).toEqual(['payments/reconciler']);
      expect(plan.missing).toEqual(['batch-processor']);
      expect(plan.drift).toEqual(["fraud-scorer is in the catalog but not in the store's metadata"]);
    });
  });

  describe('status and history', () => {
    it('shows the run holding the lock as active, and the last finished run', async () => {
      const finished = await service.start({ credential: CREDENTIAL, requester: alice });
      await runs.save({ ...finished, status: 'finished', outcome: 'succeeded' });
      await runs.release(CREDENTIAL, finished.id);
      clock.advance(60_000);
      const active = await service.start({ credential: CREDENTIAL, requester: bob });

      const status = await service.status(CREDENTIAL);

      expect(status.active?.id).toBe(active.id);
      expect(status.last?.id).toBe(finished.id);
      expect(status.age.status).toBe('overdue');
      expect((await service.history(CREDENTIAL)).map((r) => r.id)).toEqual([active.id, finished.id]);
      expect(await service.getRun(active.id)).toMatchObject({ id: active.id });
    });

    it('has nothing active when no run holds the lock', async () => {
      const status = await service.status(CREDENTIAL);
      expect(status).not.toHaveProperty('active');
      expect(status).not.toHaveProperty('last');
    });
  });
});
