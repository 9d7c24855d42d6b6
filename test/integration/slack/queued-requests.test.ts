import type { Queue } from 'bullmq';
import type { SlackCall } from '../../../sandbox/slack';
import { slackRequestEnqueuer, type SlackRequestJobData } from '../../../src/slack/slack-requests';
import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';

const textOf = (c: SlackCall) => JSON.stringify(c.args);

describe('the web role handing /rotate to the workers', () => {
  let h: AppHarness;
  let queued: SlackRequestJobData[];
  let down: boolean;
  beforeEach(async () => {
    queued = [];
    down = false;
    // The queue as the enqueuer sees it: an add that lands, or fails as BullMQ does when Redis is gone.
    const queue = {
      add: async (_name: string, data: SlackRequestJobData) => {
        if (down) throw new Error('Connection is closed.');
        queued.push(data);
      },
    } as unknown as Queue<SlackRequestJobData>;
    h = await startHarness({ enqueueRequest: slackRequestEnqueuer(queue) });
  });
  afterEach(() => h.close());

  it('queues a plan request with its response_url and does no planning itself', async () => {
    expect((await h.command('plan payment-gateway-api')).status).toBe(200);
    await eventually(() => queued.length === 1);
    expect(queued[0]).toMatchObject({
      kind: 'rotate',
      text: 'plan payment-gateway-api',
      user: 'U_ALICE',
      responseUrl: expect.stringContaining('/response/'),
    });
    expect(h.byMethod('response_url')).toHaveLength(0);
    expect(h.byMethod('chat.postMessage')).toHaveLength(0);
  });

  it('answers help itself, without queueing', async () => {
    await h.command('help');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(textOf(reply)).toContain('/rotate');
    expect(queued).toHaveLength(0);
  });

  it('tells the user at once when the queue is down, and starts nothing', async () => {
    down = true;
    expect((await h.command('payment-gateway-api')).status).toBe(200);
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(textOf(reply)).toMatch(/queue is unavailable: nothing was started/i);
    expect(h.byMethod('chat.postMessage')).toHaveLength(0);
    expect(h.audit.entries.filter((e) => e.action === 'approval.requested')).toHaveLength(0);
  });
});
