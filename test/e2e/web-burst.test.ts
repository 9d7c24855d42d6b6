import type { ChildProcess } from 'node:child_process';
import { spawnWorker, stop } from '../helpers/child-worker';
import { closeAndFindLeaks } from '../helpers/leaks';
import { eventually } from '../helpers/eventually';
import { startHarness, type Harness } from '../helpers/harness';
import { postSigned, slashCommandBody } from '../helpers/slack-signing';

/** Slack gives up on a slash command not acknowledged within 3 seconds. */
const SLACK_ACK_DEADLINE_MS = 3_000;
const BURST = 50;

describe('the web role under a burst of /rotate', () => {
  let h: Harness;
  let worker: ChildProcess;
  beforeEach(async () => {
    // As deployed: the web role acks and queues; a worker process plans, a few at a time.
    h = await startHarness({ worker: false, extraEnv: { SLACK_WORK_CONCURRENCY: '4' } });
    worker = spawnWorker(h.env).child;
  });
  afterEach(async () => {
    await stop(worker);
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  it('acks fifty commands within Slack’s deadline while the cluster takes 5 s a call, and answers every one', async () => {
    h.world.kubernetes.faults.add({ latencyMs: 5_000 });
    const sent = Array.from({ length: BURST }, async (_, i) => {
      const t0 = performance.now();
      const res = await postSigned(
        h.slackEndpoint,
        h.env.SLACK_SIGNING_SECRET!,
        slashCommandBody({
          text: 'plan payment-gateway-api',
          user: 'U0ALICE',
          channel: 'C_PAYMENTS',
          responseUrl: h.world.slack.responseUrl(`burst-${i}`),
        }),
      );
      return { status: res.status, ms: performance.now() - t0 };
    });
    const acks = await Promise.all(sent);
    expect(acks.map((a) => a.status)).toEqual(Array(BURST).fill(200));
    expect(acks.filter((a) => a.ms >= SLACK_ACK_DEADLINE_MS)).toEqual([]);

    // Nothing is dropped: once the cluster answers again, every command gets its plan.
    h.world.kubernetes.faults.clear();
    const answered = () =>
      new Set(
        h.world.slack
          .calls()
          .filter(
            (c) => c.method === 'response_url' && JSON.stringify(c.args).includes('payment-gateway-api'),
          )
          .map((c) => c.responseUrlId),
      ).size;
    await eventually(() => answered() === BURST, {
      timeoutMs: 60_000,
      describe: () => `${answered()} answered`,
    });
  }, 90_000);
});
