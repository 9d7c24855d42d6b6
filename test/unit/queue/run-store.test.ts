import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newRun, type Run } from '../../../src/domain/run';
import { RunStore } from '../../../src/queue/run-store';
import { deletePrefix, dumpPrefix, testRedis } from '../../helpers/redis';

const CREDENTIAL = 'payment-gateway-api';
const HOUR = 3_600_000;

describe('RunStore', () => {
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

  const lockTtl = () => redis.pttl(`${prefix}:lock:${CREDENTIAL}`);
  const run = (id: string, createdAt: string) =>
    newRun({ id, credential: CREDENTIAL, requester: { kind: 'cli', id: 'alice' }, now: new Date(createdAt) });

  describe('runs', () => {
    it('reads back what was saved, and nothing for an unknown id', async () => {
      const r = run('run-1', '2026-03-01T10:00:00.000Z');
      r.facts.newKeyId = 'key-9';
      await runs.save(r);
      expect(await runs.get('run-1')).toEqual(r);
      expect(await runs.get('run-2')).toBeUndefined();
    });

    it('lists a credential’s history most recent first, up to the limit', async () => {
      await runs.save(run('old', '2026-01-01T00:00:00.000Z'));
      await runs.save(run('new', '2026-03-01T00:00:00.000Z'));
      await runs.save(run('mid', '2026-02-01T00:00:00.000Z'));
      expect((await runs.history(CREDENTIAL)).map((r) => r.id)).toEqual(['new', 'mid', 'old']);
      expect((await runs.history(CREDENTIAL, 2)).map((r) => r.id)).toEqual(['new', 'mid']);
      expect(await runs.history('crm-integration')).toEqual([]);
    });

    it('leaves out of the history a run whose record has expired', async () => {
      await runs.save(run('gone', '2026-01-01T00:00:00.000Z'));
      await runs.save(run('kept', '2026-02-01T00:00:00.000Z'));
      await redis.del(`${prefix}:run:gone`);
      expect((await runs.history(CREDENTIAL)).map((r) => r.id)).toEqual(['kept']);
    });

    it('keeps a run record longer than the longest rotation policy, but not forever', async () => {
      await runs.save(run('run-1', '2026-03-01T10:00:00.000Z'));
      const ttl = await redis.ttl(`${prefix}:run:run-1`);
      expect(ttl).toBeGreaterThan(365 * 86_400);
      expect(ttl).toBeLessThan(3 * 365 * 86_400);
    });

    it('keeps everything under its prefix', async () => {
      await runs.save(run('run-1', '2026-03-01T10:00:00.000Z'));
      await runs.acquire(CREDENTIAL, 'run-1', HOUR);
      const other = new RunStore(redis, `${prefix}-other`);
      expect(await other.get('run-1')).toBeUndefined();
      expect(await other.lockHolder(CREDENTIAL)).toBeUndefined();
      expect(await dumpPrefix(redis, prefix)).toContain(`${prefix}:lock:${CREDENTIAL}`);
    });
  });

  describe('the per-credential lock', () => {
    it('goes to the first run; a second run is refused and told who holds it', async () => {
      expect(await runs.acquire(CREDENTIAL, 'run-a', HOUR)).toEqual({ ok: true });
      expect(await runs.acquire(CREDENTIAL, 'run-b', HOUR)).toEqual({ ok: false, holder: 'run-a' });
      expect(await runs.lockHolder(CREDENTIAL)).toBe('run-a');
    });

    it('lets the holder take it again (a retried job) and extends it', async () => {
      await runs.acquire(CREDENTIAL, 'run-a', 1_000);
      expect(await runs.acquire(CREDENTIAL, 'run-a', HOUR)).toEqual({ ok: true });
      expect(await lockTtl()).toBeGreaterThan(1_000);
    });

    it('is per credential', async () => {
      await runs.acquire(CREDENTIAL, 'run-a', HOUR);
      expect(await runs.acquire('crm-integration', 'run-b', HOUR)).toEqual({ ok: true });
    });

    it('expires by itself, so a dead worker cannot hold it forever', async () => {
      await runs.acquire(CREDENTIAL, 'run-a', 5_000);
      const ttl = await lockTtl();
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(5_000);
    });

    it('can be taken by another run once it expired', async () => {
      await runs.acquire(CREDENTIAL, 'run-a', HOUR);
      await redis.del(`${prefix}:lock:${CREDENTIAL}`); // what expiry does
      expect(await runs.acquire(CREDENTIAL, 'run-b', HOUR)).toEqual({ ok: true });
      expect(await runs.lockHolder(CREDENTIAL)).toBe('run-b');
    });

    describe('when another run releases it', () => {
      it('stays with its holder', async () => {
        await runs.acquire(CREDENTIAL, 'run-a', HOUR);
        await runs.release(CREDENTIAL, 'run-b');
        expect(await runs.lockHolder(CREDENTIAL)).toBe('run-a');
        expect(await runs.acquire(CREDENTIAL, 'run-c', HOUR)).toEqual({ ok: false, holder: 'run-a' });
      });
    });

    describe('when the holder releases it', () => {
      it('is free for the next run', async () => {
        await runs.acquire(CREDENTIAL, 'run-a', HOUR);
        await runs.release(CREDENTIAL, 'run-a');
        expect(await runs.lockHolder(CREDENTIAL)).toBeUndefined();
        expect(await runs.acquire(CREDENTIAL, 'run-b', HOUR)).toEqual({ ok: true });
      });
    });

    describe('when another run refreshes it', () => {
      it('is refused and does not extend the holder’s lock', async () => {
        await runs.acquire(CREDENTIAL, 'run-a', 5_000);
        expect(await runs.refresh(CREDENTIAL, 'run-b', HOUR)).toBe(false);
        expect(await lockTtl()).toBeLessThanOrEqual(5_000);
        expect(await runs.lockHolder(CREDENTIAL)).toBe('run-a');
      });
    });

    describe('when the holder refreshes it', () => {
      it('extends it', async () => {
        await runs.acquire(CREDENTIAL, 'run-a', 5_000);
        expect(await runs.refresh(CREDENTIAL, 'run-a', HOUR)).toBe(true);
        expect(await lockTtl()).toBeGreaterThan(5_000);
      });
    });

    describe('when nobody holds it', () => {
      it('cannot be refreshed into existence', async () => {
        expect(await runs.refresh(CREDENTIAL, 'run-a', HOUR)).toBe(false);
        expect(await runs.lockHolder(CREDENTIAL)).toBeUndefined();
      });
    });
  });

  describe('saves', () => {
    const runKey = (id: string) => `${prefix}:run:${id}`;
    const historyKey = () => `${prefix}:runs:${CREDENTIAL}`;
    const created = async (id = 'run-1'): Promise<Run> => {
      await runs.save(run(id, '2026-03-01T10:00:00.000Z'));
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
});
