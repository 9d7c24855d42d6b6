import { isRotatorError } from '../../../src/domain/errors';
import { WorkPool } from '../../../src/slack/work-pool';

/** A piece of work the test finishes by hand. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  return { open, opened };
}

describe('WorkPool', () => {
  it('runs at most its concurrency at once, the rest in arrival order', async () => {
    const pool = new WorkPool(2);
    const gates = Array.from({ length: 5 }, gate);
    const started: number[] = [];
    const done = gates.map((g, i) =>
      pool.run(async () => {
        started.push(i);
        await g.opened;
        return i;
      }),
    );
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    expect(pool.queued).toBe(3);
    gates[1]!.open();
    await done[1];
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3, 4]);
    expect(started).toEqual([0, 1, 2, 3, 4]);
  });

  it('frees the lane when the work fails', async () => {
    const pool = new WorkPool(1);
    await expect(pool.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(pool.run(async () => 'next')).resolves.toBe('next');
  });

  it('refuses at once, as busy, when too much is waiting', async () => {
    const pool = new WorkPool(1, 1);
    const g = gate();
    const first = pool.run(() => g.opened);
    const second = pool.run(async () => 'queued');
    const third = await pool.run(async () => 'never').catch((e: unknown) => e);
    expect(isRotatorError(third) && [third.code, third.transient]).toEqual(['busy', true]);
    g.open();
    await first;
    await expect(second).resolves.toBe('queued');
  });
});
