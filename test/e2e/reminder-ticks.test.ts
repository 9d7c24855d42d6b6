import { setTimeout as sleep } from 'node:timers/promises';
import type { ChildProcess } from 'node:child_process';
import { spawnWorker, stop } from '../helpers/child-worker';
import { eventually } from '../helpers/eventually';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

/** A tick every 2 seconds (BullMQ's cron takes a seconds field), so a test sees several. */
const EVERY_2_S = '*/2 * * * * *';
/** The runbook's three, all overdue in the seeded catalog, one per channel (other kinds add more). */
const RUNBOOK_CHANNELS = ['C_PAYMENTS', 'C_SALES', 'C_SRE'];

describe('reminder ticks with worker processes', () => {
  let h: Harness;
  const children: Array<{ child: ChildProcess; output: () => string }> = [];
  beforeEach(async () => {
    // No worker in this process: the workers are their own OS processes, as replicas are.
    h = await startHarness({ worker: false, extraEnv: { REMINDER_CRON: EVERY_2_S, LOG_LEVEL: 'info' } });
  });
  afterEach(async () => {
    await Promise.all(children.map((c) => stop(c.child)));
    expect(
      await closeAndFindLeaks(
        h,
        children.splice(0).map((c) => c.output()),
      ),
    ).toEqual([]);
  });

  const startWorker = () => {
    const w = spawnWorker(h.env);
    children.push(w);
    return w;
  };
  /** Every digest posted, as (channel, tick): the tick is in the message text. */
  const posted = () =>
    h.world.slack
      .calls()
      .filter((c) => c.method === 'chat.postMessage' && c.status === 200)
      .map((c) => ({ channel: String(c.args.channel), text: String(c.args.text) }))
      .filter((c) => c.text.startsWith('Rotation digest'))
      .map((c) => ({ channel: c.channel, tick: Date.parse(/\(digest of (\S+)\)$/.exec(c.text)![1]!) }));
  const ticks = () => [...new Set(posted().map((p) => p.tick))].sort((a, b) => a - b);
  /** Each channel's digests, by tick: exactly one per (channel, tick) is the claim. */
  const perChannelAndTick = () => {
    const n = new Map<string, number>();
    for (const p of posted()) n.set(`${p.channel}@${p.tick}`, (n.get(`${p.channel}@${p.tick}`) ?? 0) + 1);
    return n;
  };
  const expectOncePerChannelPerTick = () => {
    const channels = new Set(posted().map((p) => p.channel));
    for (const c of RUNBOOK_CHANNELS) expect(channels).toContain(c);
    for (const t of ticks()) for (const c of channels) expect(perChannelAndTick().get(`${c}@${t}`)).toBe(1);
    expect([...perChannelAndTick().values()].every((n) => n === 1)).toBe(true);
  };

  it('posts each digest once per tick with two workers, and a tick missed while both were down once', async () => {
    const [a, b] = [startWorker(), startWorker()];
    await eventually(() => ticks().length >= 3, { timeoutMs: 60_000, describe: () => `ticks ${ticks()}` });
    await Promise.all([stop(a.child), stop(b.child)]);
    expectOncePerChannelPerTick();
    const beforeDown = ticks();
    const down = Date.now();

    // Every worker down for at least three ticks.
    await sleep(7_000);
    const back = Date.now();
    startWorker();
    await eventually(() => ticks().filter((t) => t > back).length >= 1, {
      timeoutMs: 60_000,
      describe: () => `ticks ${ticks()}`,
    });
    await stop(children.at(-1)!.child);

    const whileDown = ticks().filter((t) => t > beforeDown.at(-1)! && t < back);
    expect(back - down).toBeGreaterThan(6_000);
    // The missed ticks collapse into one, posted once per channel; none is replayed.
    expect(whileDown).toHaveLength(1);
    expectOncePerChannelPerTick();
  }, 180_000);
});
