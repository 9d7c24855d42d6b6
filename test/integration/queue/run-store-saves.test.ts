import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newRun, type Run } from '../../../src/domain/run';
import { RunStore } from '../../../src/queue/run-store';
import { deletePrefix, testRedis } from '../../helpers/redis';

const CREDENTIAL = 'payment-gateway-api';
const HOUR = 3_600_000;

describe('RunStore saves', () => {
  let redis: Redis;
  let prefix: string;
  let runs: RunStore;
  beforeAll(() => {
    redis = testRedis();
  });
  afterAll(() => redis.quit());
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
    runs = new RunStore(redis, prefix);
  });
  afterEach(() => deletePrefix(redis, prefix));

  const runKey = (id: string) => `${prefix}:run:${id}`;
  const historyKey = () => `${prefix}:runs:${CREDENTIAL}`;
  const created = async (id = 'run-1'): Promise<Run> => {
    const run = newRun({
      id,
      credential: CREDENTIAL,
      requester: { kind: 'cli', id: 'alice' },
      now: new Date('2026-03-01T10:00:00.000Z'),
    });
    await runs.save(run);
    return (await runs.get(id))!;
  };

  describe('when one step of a loaded run changes', () => {
    it('writes that step and leaves every other field as Redis has it', async () => {
      const run = await created();
      // Another writer's mark on a field this save has no reason to touch.
      await redis.hset(runKey('run-1'), 'step:5', JSON.stringify({ marker: 'untouched' }));
      run.steps[0]!.status = 'running';
      run.steps[0]!.startedAt = '2026-03-01T10:00:01.000Z';
      await runs.save(run);
      expect(JSON.parse((await redis.hget(runKey('run-1'), 'step:5'))!)).toEqual({ marker: 'untouched' });
      expect((await runs.get('run-1'))!.steps[0]).toMatchObject({
        name: 'check-dependencies',
        status: 'running',
      });
    });
  });

  describe('when nothing changed', () => {
    it('writes nothing', async () => {
      const run = await created();
      await redis.hset(runKey('run-1'), 'status', JSON.stringify('changed-elsewhere'));
      await runs.save(run);
      expect((await runs.get('run-1'))!.status).toBe('changed-elsewhere');
    });
  });

  describe('when a fact is removed', () => {
    it('is removed from the record', async () => {
      const run = await created();
      run.facts.newKeyId = 'key-9';
      run.facts.oldKeyId = 'key-1';
      await runs.save(run);
      delete run.facts.newKeyId;
      await runs.save(run);
      expect((await runs.get('run-1'))!.facts).toEqual({ oldKeyId: 'key-1' });
      expect(await redis.hexists(runKey('run-1'), 'fact:newKeyId')).toBe(0);
    });
  });

  it('reads back exactly what was saved, field by field', async () => {
    const run = await created();
    run.approver = { kind: 'slack', id: 'U0BOB' };
    run.slack = { channel: 'C1', threadTs: '1.2', progressTs: '1.3' };
    run.facts.deploys = { forward: { syncPatched: true, restarted: ['web-app'] } };
    run.steps[1]!.detail = 'key-9';
    run.status = 'finished';
    run.outcome = 'succeeded';
    await runs.save(run);
    expect(await new RunStore(redis, prefix).get('run-1')).toEqual(run);
  });

  describe('the history set', () => {
    it('is written when the run is created, not by later saves', async () => {
      const run = await created();
      expect(await redis.zscore(historyKey(), 'run-1')).not.toBeNull();
      await redis.zrem(historyKey(), 'run-1');
      run.status = 'running';
      await runs.save(run);
      expect(await redis.zscore(historyKey(), 'run-1')).toBeNull();
    });
  });

  describe('when the record is gone before a save', () => {
    it('writes it whole again, with its expiry and its place in the history', async () => {
      const run = await created();
      await redis.del(runKey('run-1'));
      await redis.zrem(historyKey(), 'run-1');
      run.status = 'running';
      await runs.save(run);
      expect(await runs.get('run-1')).toEqual(run);
      expect(await redis.ttl(runKey('run-1'))).toBeGreaterThan(365 * 86_400);
      expect(await redis.zscore(historyKey(), 'run-1')).not.toBeNull();
    });
  });

  describe('a record written whole as JSON by an earlier version', () => {
    it('is read, and its next save turns it into fields', async () => {
      const old = newRun({
        id: 'run-old',
        credential: CREDENTIAL,
        requester: { kind: 'cli', id: 'alice' },
        now: new Date('2026-01-01T00:00:00.000Z'),
      });
      await redis.set(runKey('run-old'), JSON.stringify(old), 'EX', 60);
      await redis.zadd(historyKey(), Date.parse(old.createdAt), 'run-old');
      const read = await runs.get('run-old');
      expect(read).toEqual(old);
      expect((await runs.history(CREDENTIAL)).map((r) => r.id)).toEqual(['run-old']);
      read!.status = 'running';
      await runs.save(read!);
      expect(await redis.type(runKey('run-old'))).toBe('hash');
      expect(await runs.get('run-old')).toEqual(read);
    });
  });

  describe('a save that refreshes the lock', () => {
    it('extends it for the run that holds it', async () => {
      const run = await created();
      await runs.acquire(CREDENTIAL, 'run-1', 5_000);
      run.status = 'running';
      await runs.save(run, { refreshLockMs: HOUR });
      expect(await redis.pttl(`${prefix}:lock:${CREDENTIAL}`)).toBeGreaterThan(5_000);
    });

    it('leaves another run’s lock as it is, and still saves', async () => {
      const run = await created();
      await runs.acquire(CREDENTIAL, 'run-other', 5_000);
      run.status = 'running';
      await runs.save(run, { refreshLockMs: HOUR });
      expect(await redis.pttl(`${prefix}:lock:${CREDENTIAL}`)).toBeLessThanOrEqual(5_000);
      expect(await runs.lockHolder(CREDENTIAL)).toBe('run-other');
      expect((await runs.get('run-1'))!.status).toBe('running');
    });
  });
});
