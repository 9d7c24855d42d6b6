import type { SlackCall } from '../../../sandbox/slack';
import { createPlanCloseProcessor } from '../../../jobs/plan-close-job';
import { createWebClient } from '../../../src/adapters/chat/web-client';
import type { ApprovalExpiryJobData } from '../../../src/queue/names';
import { APPROVE_ACTION, REJECT_ACTION } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';
import type { Job } from 'bullmq';

let h: AppHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const textOf = (c: SlackCall) => JSON.stringify(c.args);
const slackRefuses = (method: string, error: string) =>
  h.double.faults.add({ method: 'POST', path: `/api/${method}`, status: 200, body: { ok: false, error } });
const hasButtons = (blocks: unknown) => (blocks as Array<{ type: string }>).some((b) => b.type === 'actions');

describe('when the plan cannot be posted', () => {
  it.each([
    [
      'not_in_channel',
      "I can't post in <#C_PLATFORM>: I'm not a member. Invite me with `/invite @credential-rotator`",
    ],
    ['channel_not_found', "I can't see <#C_PLATFORM>"],
    ['is_archived', '<#C_PLATFORM> is archived'],
  ])('withdraws the request, audits it and says what to do (%s)', async (error, sentence) => {
    slackRefuses('chat.postMessage', error);
    await h.command('payment-gateway-api');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    const withdrawn = await eventually(() => h.audit.entries.find((e) => e.action === 'approval.withdrawn'));
    const id = /request ([0-9a-f]{16})/.exec(withdrawn.detail ?? '')?.[1] ?? '';
    expect(await h.slack.approvals.get(id)).toBeUndefined();
    await h.close();
    expect(textOf(reply)).toContain(sentence);
    expect(textOf(reply)).toContain('Nothing was started');
    expect(textOf(reply)).not.toMatch(/internal error/i);
    expect(withdrawn).toMatchObject({
      outcome: 'failed',
      detail: `request ${id}: plan not posted in C_PLATFORM (${error})`,
    });
    expect(h.audit.entries.find((e) => e.action === 'approval.requested')?.detail).toBe(`request ${id}`);
    expect(h.requests.started).toHaveLength(0);
  });
});

describe('when Slack rate-limits chat.update as the approver clicks', () => {
  it('tells the approver the run started, keeps the run, and closes the plan later', async () => {
    const { id, ts, blocks } = await h.requestPlan();
    h.double.rateLimit('chat.update', 10, 1);
    expect((await h.click(APPROVE_ACTION, id, ts, 'U_BOB', blocks)).status).toBe(200);
    const told = await eventually(
      () => h.byMethod('response_url').find((c) => c.responseUrlId === 'act-U_BOB'),
      10_000,
    );
    expect(textOf(told)).toContain('Run `run-1` started for `payment-gateway-api`');
    expect(h.requests.started).toHaveLength(1);
    expect(h.scheduledCloses).toEqual([
      { requestId: id, line: expect.stringContaining('run `run-1` started') },
    ]);
    expect(hasButtons(h.double.messages('C_PLATFORM')[0]!.blocks)).toBe(true);

    // A stale button starts nothing.
    await h.click(APPROVE_ACTION, id, ts, 'U_CAROL', blocks);
    await eventually(() => h.byMethod('chat.postEphemeral').find((c) => c.args.user === 'U_CAROL'));
    expect(h.requests.started).toHaveLength(1);

    // The storm passes; the delayed close job does what the click could not.
    h.double.faults.clear();
    const client = createWebClient({ token: 'xoxb-test-token', slackApiUrl: h.double.url });
    const close = createPlanCloseProcessor({ approvals: h.slack.approvals, client });
    const job = { name: 'close', data: h.scheduledCloses[0]! } as Job<ApprovalExpiryJobData>;
    await expect(close(job)).resolves.toBe('closed');
    const plan = h.double.messages('C_PLATFORM')[0]!;
    expect(hasButtons(plan.blocks)).toBe(false);
    expect(plan.text).toContain('Approved by');
    await h.close();
    expect(h.double.calls().some((c) => /internal error/i.test(textOf(c)))).toBe(false);
  }, 20_000);
});

describe('the one error handler', () => {
  it('turns a Slack API error into a sentence, never "internal error"', async () => {
    const { id, ts, blocks } = await h.requestPlan();
    slackRefuses('chat.update', 'message_not_found');
    await h.click(REJECT_ACTION, id, ts, 'U_CAROL', blocks);
    const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0]);
    expect(textOf(eph)).toContain('The message I wanted to update is gone');
    expect(textOf(eph)).not.toMatch(/internal error/i);
  });

  it('says Slack is rate-limiting when its retries run out', async () => {
    const { id, ts, blocks } = await h.requestPlan();
    h.double.rateLimit('chat.update', 10, 1);
    await h.click(REJECT_ACTION, id, ts, 'U_CAROL', blocks);
    const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0], 10_000);
    expect(textOf(eph)).toContain('Slack is rate-limiting me (retry after 1 s)');
  }, 20_000);
});
