import { randomUUID } from 'node:crypto';
import { IssuerLimiter } from '../../../src/queue/issuer-limiter';
import type { Redis } from 'ioredis';
import { eventually } from '../../helpers/eventually';
import { deletePrefix, testRedis } from '../../helpers/redis';

describe('IssuerLimiter', () => {
  const a = testRedis();
  const b = testRedis(); // a second replica, its own connection
  let prefix: string;
  beforeEach(() => {
    prefix = `test-${randomUUID()}`;
  });
  afterEach(() => deletePrefix(a, prefix));
  afterAll(() => {
    a.disconnect();
    b.disconnect();
  });

  it('keeps calls to one issuer at the limit across replicas, and other issuers unaffected', async () => {
    const replicas = [new IssuerLimiter(a, prefix), new IssuerLimiter(b, prefix)];
    let inFlight = 0;
    let peak = 0;
    const call = async () => {
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 15));
      inFlight -= 1;
    };
    await Promise.all(Array.from({ length: 20 }, (_, i) => replicas[i % 2]!.run('provider', 3, call)));
    expect(peak).toBe(3);

    let other = 0;
    await Promise.all([
      replicas[0]!.run('provider', 1, () => new Promise((r) => setTimeout(r, 50))),
      replicas[1]!.run('elsewhere', 1, async () => void (other += 1)),
    ]);
    expect(other).toBe(1);
  });

  it('frees the slot when the call fails, and gives up as rate limited when none frees in time', async () => {
    const limiter = new IssuerLimiter(a, prefix, { maxWaitMs: 100 });
    await expect(limiter.run('p', 1, () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(limiter.run('p', 1, async () => 'ok')).resolves.toBe('ok');
    const holding = limiter.run('p', 1, () => new Promise((r) => setTimeout(r, 400)));
    await expect(limiter.run('p', 1, async () => 'late')).rejects.toMatchObject({
      code: 'issuer_rate_limited',
      transient: true,
    });
    await holding;
  });

  it('lets a lease whose holder died expire', async () => {
    const dead = new IssuerLimiter(a, prefix, { leaseMs: 100 });
    void dead.run('p', 1, () => new Promise(() => undefined)); // never returns: a crashed holder
    const alive = new IssuerLimiter(b, prefix, { maxWaitMs: 2_000 });
    await expect(alive.run('p', 1, async () => 'after expiry')).resolves.toBe('after expiry');
  });

  it('hands a freed slot to a waiter of another replica when it is announced, not at its next poll', async () => {
    const holder = new IssuerLimiter(a, prefix, { subscriber: () => testRedis() });
    // Polls 10 s apart: without the announcement the waiter would sleep through the release.
    const waiter = new IssuerLimiter(b, prefix, {
      subscriber: () => testRedis(),
      pollMinMs: 10_000,
      pollMaxMs: 10_000,
    });
    let released = 0;
    const holding = holder.run('p', 1, async () => {
      await new Promise((r) => setTimeout(r, 500));
      released = Date.now();
    });
    await new Promise((r) => setTimeout(r, 50));
    const acquiredAt = await waiter.run('p', 1, async () => Date.now());
    await holding;
    holder.close();
    waiter.close();
    // Its next poll would come at least 9.5 s after the release.
    expect(acquiredAt - released).toBeLessThan(5_000);
  }, 15_000);

  it('wakes the waiters of one process in their order in line, however often they were woken for nothing', async () => {
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const slow = { pollMinMs: 10_000, pollMaxMs: 10_000 };
    const holder = new IssuerLimiter(a, prefix, { subscriber: () => testRedis() });
    const elsewhere = new IssuerLimiter(b, prefix, { subscriber: () => testRedis(), ...slow });
    const here = new IssuerLimiter(a, prefix, { subscriber: () => testRedis(), ...slow });
    const order: string[] = [];
    let releasedAt = 0;
    const holding = holder.run('p', 1, () => sleep(300));
    await sleep(50);
    // Two ahead in line in another process: each release before A's turn wakes waiters here for nothing.
    const ahead = [0, 1].map(async (i) => {
      await sleep(i * 30);
      return elsewhere.run('p', 1, async () => {
        await sleep(200);
        releasedAt = Date.now();
      });
    });
    await sleep(100);
    // Then six here, in this order.
    const mine: Array<Promise<number>> = [];
    for (const name of ['A', 'B', 'C', 'D', 'E', 'F']) {
      mine.push(here.run('p', 1, async () => (order.push(name), Date.now())));
      await sleep(20);
    }
    await Promise.all([holding, ...ahead]);
    const aAt = await mine[0]!;
    await Promise.all(mine);
    for (const l of [holder, elsewhere, here]) l.close();
    expect(order).toEqual(['A', 'B', 'C', 'D', 'E', 'F']);
    // A was woken by X2's release, not by its own poll 10 s later.
    expect(aAt - releasedAt).toBeLessThan(5_000);
  }, 60_000);

  it('keeps a wake-up that arrives while the woken waiter’s poll is in flight', async () => {
    // The waiter's own connection, which the test can hold up, and its subscriber, to know when an
    // announcement has been read.
    const conn = testRedis();
    let sub: Redis | undefined;
    const waiter = new IssuerLimiter(conn, prefix, {
      subscriber: () => (sub = testRedis()),
      pollMinMs: 60_000,
      pollMaxMs: 60_000,
      maxWaitMs: 120_000,
    });
    const base = `${prefix}:issuer:{p}`;
    const announce = async () => {
      await a.publish(`${prefix}:issuer-free`, 'p');
      await sub!.ping(); // answered after the announcement: it has been read
    };
    // Another replica holds the only slot.
    await a.zadd(`${base}:leases`, Date.now() + 600_000, 'elsewhere');
    let done = false;
    const call = waiter.run('p', 1, async () => void (done = true));
    await eventually(
      async () => sub !== undefined && (await a.pubsub('NUMSUB', `${prefix}:issuer-free`))[1] === 1,
    );
    // Woken for nothing: its next poll waits behind a blocked command on its connection.
    const blocker = `${prefix}:blocker`;
    void conn.blpop(blocker, 0);
    await eventually(async () => ((await a.client('LIST')) as string).includes('cmd=blpop'));
    await announce();
    // The slot frees right after that poll runs (queued behind it on the same connection), and its
    // announcement is read while the poll's answer is still on its way.
    void conn.zrem(`${base}:leases`, 'elsewhere');
    await announce();
    await a.lpush(blocker, 'go');
    await call;
    expect(done).toBe(true);
    waiter.close();
    conn.disconnect();
  }, 30_000);
});
