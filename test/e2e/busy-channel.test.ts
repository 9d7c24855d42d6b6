import type { Run } from '../../src/domain/run';
import { section } from '../../src/slack/views';
import { startHarness, type Harness } from '../helpers/harness';
import { eventually } from '../helpers/eventually';
import { closeAndFindLeaks } from '../helpers/leaks';

const BUSY = 'C_PAYMENTS';
const ELSEWHERE = 'C_SALES';
/** Messages already waiting for the busy channel: at Slack's one a second, most of a minute. */
const BACKLOG = 40;

describe('a channel rate-limited to one message per second, with a long queue', () => {
  let h: Harness;
  beforeEach(async () => {
    // One worker slot: a rotation that waited on Slack's pace would hold up every other one.
    h = await startHarness({ extraEnv: { WORKER_CONCURRENCY: '1', OLD_KEY_QUIET_SECONDS: '0' } });
  });
  afterEach(async () => {
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  const backlog = () => h.redis.llen(`${h.prefix}:outbox:${BUSY}:items`);
  const postsIn = (channel: string, run: Run) =>
    h.world.slack
      .calls()
      .filter((c) => c.method === 'chat.postMessage' && c.status === 200 && c.args.channel === channel)
      .filter((c) => JSON.stringify(c.args).includes(run.id));

  it('does not delay a rotation reporting elsewhere, nor its own rotation', async () => {
    // Each in a thread of its own, so none folds into another: BACKLOG messages, one a second.
    for (let i = 0; i < BACKLOG; i++) {
      await h.services.outbox.post(
        BUSY,
        { text: `queued ${i}`, blocks: [section(`queued ${i}`)] },
        { thread_ts: `1700000000.${String(i).padStart(6, '0')}` },
      );
    }
    const requester = { kind: 'slack' as const, id: 'U0ALICE' };
    const busy = await h.services.service.start({
      credential: 'payment-gateway-api',
      requester,
      slack: { channel: BUSY, threadTs: '1700000001.000001' },
    });
    const other = await h.services.service.start({
      credential: 'crm-integration',
      requester,
      slack: { channel: ELSEWHERE, threadTs: '1700000001.000002' },
    });

    const [busyRun, otherRun] = await Promise.all([h.waitForRun(busy.id), h.waitForRun(other.id)]);
    expect([busyRun.outcome, otherRun.outcome]).toEqual(['succeeded', 'succeeded']);
    // The run elsewhere is told in full: its summary in its thread, its progress message at the end.
    await eventually(() =>
      postsIn(ELSEWHERE, otherRun).some((c) => c.args.thread_ts === '1700000001.000002'),
    );
    const at = await eventually(() => h.services.runProgress.message(otherRun.id));
    await eventually(() =>
      h.world.slack.messages(ELSEWHERE).some((m) => m.ts === at.ts && m.text?.endsWith('8/8 steps done')),
    );

    // Meanwhile the busy channel is still working through its queue: the busy run's summary waits
    // there, and neither rotation waited for it.
    expect(await backlog()).toBeGreaterThan(0);
    expect(postsIn(BUSY, busyRun).filter((c) => JSON.stringify(c.args).includes('Rotated'))).toEqual([]);
    // It gets there in turn, one message a second, without a 429 from Slack on the way.
    expect(h.world.slack.calls().filter((c) => c.method === 'chat.postMessage' && c.status === 429)).toEqual(
      [],
    );
  }, 60_000);
});
