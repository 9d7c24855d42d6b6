import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { newRun } from '../../../src/domain/run';
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
});
