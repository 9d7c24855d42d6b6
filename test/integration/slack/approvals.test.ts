import { randomUUID } from 'node:crypto';
import IORedis, { type Redis } from 'ioredis';
import { ApprovalStore } from '../../../src/slack/approvals';
import { deletePrefix, dumpPrefix, testRedis } from '../../helpers/redis';

let redis: Redis;
let prefix: string;
let clock: number;
let store: ApprovalStore;

beforeEach(() => {
  redis = testRedis();
  prefix = `test-${randomUUID()}:`;
  clock = Date.parse('2026-11-26T10:00:00Z');
  store = new ApprovalStore({ redis, prefix, now: () => new Date(clock) });
});

afterEach(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const create = () =>
  store.createRequest({
    credential: 'payment-gateway-api',
    requester: 'U_ALICE',
    channel: 'C1',
    messageTs: '1.000100',
  });

describe('ApprovalStore', () => {
  it('keeps a pending request under the prefix with names and ids only', async () => {
    const id = await create();
    const req = await store.get(id);
    expect(req).toMatchObject({ credential: 'payment-gateway-api', requester: 'U_ALICE', state: 'pending' });
    expect(req?.expiresAt).toBe('2026-11-26T11:00:00.000Z');
    expect(await dumpPrefix(redis, prefix)).toContain(`${prefix}approval:${id}`);
    expect(await redis.pttl(`${prefix}approval:${id}`)).toBeGreaterThan(60 * 60_000);
  });

  describe('when the same approver clicks twice', () => {
    it('approves once and reports the second as already decided', async () => {
      const id = await create();
      const [a, b] = await Promise.all([
        store.decide(id, 'approved', 'U_BOB'),
        store.decide(id, 'approved', 'U_BOB'),
      ]);
      expect([a.ok, b.ok].filter(Boolean)).toHaveLength(1);
      const loser = a.ok ? b : a;
      expect(loser).toMatchObject({ ok: false, reason: 'already_decided' });
    });
  });

  describe('when many approvers click at once', () => {
    it('yields exactly one approval', async () => {
      const id = await create();
      const others = Array.from(
        { length: 5 },
        () => new IORedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379'),
      );
      const stores = others.map((r) => new ApprovalStore({ redis: r, prefix, now: () => new Date(clock) }));
      const results = await Promise.all(stores.map((s, i) => s.decide(id, 'approved', `U_APPROVER${i}`)));
      await Promise.all(others.map((r) => r.quit()));
      expect(results.filter((r) => r.ok)).toHaveLength(1);
      expect((await store.get(id))?.state).toBe('approved');
    });
  });

  describe('when the approval has expired', () => {
    it('refuses and marks the request expired', async () => {
      const id = await create();
      clock += 60 * 60_000;
      await expect(store.decide(id, 'approved', 'U_BOB')).resolves.toMatchObject({
        ok: false,
        reason: 'expired',
      });
      expect((await store.get(id))?.state).toBe('expired');
      await expect(store.decide(id, 'rejected', 'U_BOB')).resolves.toMatchObject({
        ok: false,
        reason: 'expired',
      });
    });
  });

  describe('when the approver is the requester', () => {
    it('refuses and leaves the request pending', async () => {
      const id = await create();
      await expect(store.decide(id, 'approved', 'U_ALICE')).resolves.toMatchObject({
        ok: false,
        reason: 'self_approval',
      });
      expect((await store.get(id))?.state).toBe('pending');
    });

    it('lets the requester withdraw with reject', async () => {
      const id = await create();
      await expect(store.decide(id, 'rejected', 'U_ALICE')).resolves.toMatchObject({ ok: true });
    });
  });

  it('answers not_found for an unknown id', async () => {
    await expect(store.decide('0000000000000000', 'approved', 'U_BOB')).resolves.toEqual({
      ok: false,
      reason: 'not_found',
    });
  });

  it('reopens an approval whose run could not start, only for the approver who took it', async () => {
    const id = await create();
    await store.decide(id, 'approved', 'U_BOB');
    expect(await store.reopen(id, 'U_CAROL')).toBe(false);
    expect(await store.reopen(id, 'U_BOB')).toBe(true);
    await expect(store.decide(id, 'approved', 'U_CAROL')).resolves.toMatchObject({ ok: true });
  });

  describe('when Redis is unavailable', () => {
    it('throws queue_unavailable saying nothing was started', async () => {
      const down = new IORedis('redis://127.0.0.1:1', {
        retryStrategy: () => null,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
      });
      const s = new ApprovalStore({ redis: down, prefix });
      await expect(
        s.createRequest({ credential: 'x1', requester: 'U1', channel: 'C1' }),
      ).rejects.toMatchObject({
        code: 'queue_unavailable',
        message: expect.stringMatching(/nothing was started/),
      });
      down.disconnect();
    });
  });
});
