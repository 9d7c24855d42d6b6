import type { SlackCall } from '../../../sandbox/slack';
import { RotatorError } from '../../../src/domain/errors';
import { APPROVE_ACTION, REJECT_ACTION } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { postSigned, slashCommandBody } from '../../helpers/slack-signing';
import { SECRET, startHarness, type AppHarness } from './app-harness';

let h: AppHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const textOf = (c: SlackCall) => JSON.stringify(c.args);

describe('request verification', () => {
  const body = () =>
    slashCommandBody({
      text: 'payment-gateway-api',
      user: 'U_ALICE',
      responseUrl: h.double.responseUrl('x'),
    });
  /**
   * Nothing was posted for the refused request: a good request sent after it gets its plan, and
   * that plan is the only message. (Waits on the good request's post, not on a timer.)
   */
  const expectOnlyTheNextPlanPosted = async () => {
    await postSigned(h.endpoint, SECRET, body());
    await eventually(() => h.byMethod('chat.postMessage')[0]);
    expect(h.byMethod('chat.postMessage')).toHaveLength(1);
  };

  it('rejects a bad signature with 401 and posts nothing', async () => {
    const res = await postSigned(h.endpoint, SECRET, body(), { signature: 'v0=deadbeef' });
    expect(res.status).toBe(401);
    await expectOnlyTheNextPlanPosted();
  });

  it('rejects a timestamp older than 5 minutes', async () => {
    const res = await postSigned(h.endpoint, SECRET, body(), {
      timestamp: Math.floor(Date.now() / 1000) - 301,
    });
    expect(res.status).toBe(401);
    expect(h.requests.started).toHaveLength(0);
  });

  it('rejects a content type with a charset and starts nothing', async () => {
    const res = await postSigned(h.endpoint, SECRET, body(), {
      contentType: 'application/x-www-form-urlencoded; charset=utf-8',
    });
    expect(res.status).toBeGreaterThanOrEqual(400);
    await expectOnlyTheNextPlanPosted();
  });
});

describe('/rotate <name>', () => {
  it('acks before the slow plan work, then posts the plan', async () => {
    h.requests.planDelayMs = 1_500;
    const t0 = Date.now();
    const res = await h.command('payment-gateway-api');
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(1_000);
    await eventually(() => h.byMethod('chat.postMessage')[0], 5_000);
  });

  it('posts the plan with Approve and Reject carrying only a request id', async () => {
    const { id, blocks } = await h.requestPlan();
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    const actions = blocks.find((b) => b.type === 'actions');
    expect(actions?.elements?.map((e) => e.action_id)).toEqual([APPROVE_ACTION, REJECT_ACTION]);
    expect(JSON.stringify(blocks)).toContain('97 days old, policy 90 days: overdue');
    expect(JSON.stringify(h.double.calls())).not.toContain('admin-token-never-shown');
    expect(h.audit.entries.map((e) => e.action)).toContain('approval.requested');
  });

  it('answers an unknown name ephemerally with the closest names', async () => {
    await h.command('payment-gateway');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(reply.args.response_type).toBe('ephemeral');
    expect(textOf(reply)).toContain('`payment-gateway-api`');
    expect(h.byMethod('chat.postMessage')).toHaveLength(0);
  });

  it('answers malformed input with usage', async () => {
    await h.command('plan');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(textOf(reply)).toContain('Usage');
    expect(h.requests.started).toHaveLength(0);
  });
});

describe('approvals', () => {
  it('refuses self-approval ephemerally and starts nothing', async () => {
    const { id, ts } = await h.requestPlan();
    await h.click(APPROVE_ACTION, id, ts, 'U_ALICE');
    const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0]);
    expect(eph.args.user).toBe('U_ALICE');
    expect(textOf(eph)).toContain('someone else must approve');
    expect(h.requests.started).toHaveLength(0);
  });

  it('refuses a non-approver and says who may approve', async () => {
    const { id, ts } = await h.requestPlan();
    await h.click(APPROVE_ACTION, id, ts, 'U_DAVE');
    const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0]);
    expect(textOf(eph)).toContain('<@U_BOB>');
    expect(textOf(eph)).toContain('<!subteam^SAPPROVERS1>');
    expect(h.requests.started).toHaveLength(0);
    expect(h.audit.entries.some((e) => e.action === 'approval.refused')).toBe(true);
  });

  it('refuses an expired approval and replaces the buttons with "expired"', async () => {
    const { id, ts, blocks } = await h.requestPlan();
    h.advance(61 * 60_000);
    await h.click(APPROVE_ACTION, id, ts, 'U_BOB', blocks);
    const update = await eventually(() => h.byMethod('chat.update')[0]);
    expect(textOf(update)).toContain('expired');
    expect((update.args.blocks as Array<{ type: string }>).some((b) => b.type === 'actions')).toBe(false);
    expect(h.requests.started).toHaveLength(0);
  });

  it('starts exactly one run for a double click and two approvers at once', async () => {
    const { id, ts, blocks } = await h.requestPlan();
    await Promise.all([
      h.click(APPROVE_ACTION, id, ts, 'U_BOB', blocks),
      h.click(APPROVE_ACTION, id, ts, 'U_BOB', blocks),
      h.click(APPROVE_ACTION, id, ts, 'U_CAROL', blocks),
    ]);
    await eventually(() => h.byMethod('chat.update')[0]);
    await eventually(() => h.byMethod('chat.postEphemeral').length === 2);
    expect(h.requests.started).toHaveLength(1);
    expect(h.requests.started[0]).toMatchObject({
      credential: 'payment-gateway-api',
      requester: { kind: 'slack', id: 'U_ALICE' },
      slack: { channel: 'C_PLATFORM', threadTs: ts },
    });
    expect(h.double.messages('C_PLATFORM')[0]!.text).toContain('Approved by');
    expect(h.audit.entries.filter((e) => e.action === 'approval.granted')).toHaveLength(1);
  });

  it('says "nothing was started" when the queue is unavailable, and the request can be approved later', async () => {
    const { id, ts } = await h.requestPlan();
    h.requests.startError = new RotatorError('queue_unavailable', 'queue unavailable', { transient: true });
    await h.click(APPROVE_ACTION, id, ts, 'U_BOB');
    const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0]);
    expect(textOf(eph)).toMatch(/nothing was started/i);
    expect((await h.slack.approvals.get(id))?.state).toBe('pending');
  });

  it('records who rejected and closes the plan', async () => {
    const { id, ts, blocks } = await h.requestPlan();
    await h.click(REJECT_ACTION, id, ts, 'U_CAROL', blocks);
    const update = await eventually(() => h.byMethod('chat.update')[0]);
    expect(textOf(update)).toContain('Rejected by <@U_CAROL>');
    expect(h.audit.entries.find((e) => e.action === 'approval.rejected')?.identity).toBe('slack:U_CAROL');
    expect(h.requests.started).toHaveLength(0);
  });
});

describe('when Redis is unavailable', () => {
  it('answers /rotate with "nothing was started" and posts no plan', async () => {
    const down = await startHarness({ redisDown: true });
    try {
      await down.command('payment-gateway-api');
      const reply = await eventually(() => down.byMethod('response_url')[0]);
      expect(JSON.stringify(reply.args)).toMatch(/nothing was started/i);
      expect(down.byMethod('chat.postMessage')).toHaveLength(0);
      expect(down.requests.started).toHaveLength(0);
    } finally {
      await down.close();
    }
  });
});
