import type { SlackCall } from '../../../sandbox/slack';
import { REJECT_ACTION } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';

const textOf = (c: SlackCall) => JSON.stringify(c.args);

describe('the requester allow-list', () => {
  let h: AppHarness;
  beforeEach(async () => {
    h = await startHarness({
      access: { requesters: ['U_ALICE', 'SREQUESTERS'], approvers: ['U_BOB'], responders: [] },
      userGroups: { SREQUESTERS: ['U_GRACE'] },
    });
  });
  afterEach(() => h.close());

  describe('when a user on neither the list nor its groups runs /rotate', () => {
    it('refuses, says who may, and posts, stores and enqueues nothing', async () => {
      await h.command('payment-gateway-api', 'U_ERIN');
      const reply = await eventually(() => h.byMethod('response_url')[0]);
      await h.close();
      expect(textOf(reply)).toContain(
        'You may not request rotations. Ask one of: <@U_ALICE>, <!subteam^SREQUESTERS>',
      );
      expect(h.byMethod('chat.postMessage')).toHaveLength(0);
      expect(h.requests.started).toHaveLength(0);
      expect(h.audit.entries.map((e) => [e.action, e.identity])).toEqual([
        ['request.refused', 'slack:U_ERIN'],
      ]);
    });
  });

  it.each(['U_ALICE', 'U_GRACE'])(
    'lets %s (listed, or in a listed group) request a rotation',
    async (user) => {
      await h.command('payment-gateway-api', user);
      await eventually(() => h.byMethod('chat.postMessage')[0]);
      expect(h.audit.entries.map((e) => e.action)).toEqual(['approval.requested']);
    },
  );
});

describe('who may reject', () => {
  let h: AppHarness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  describe('when someone neither the requester nor an approver clicks Reject', () => {
    it('refuses, leaves the request pending and the plan open', async () => {
      const { id, ts, blocks } = await h.requestPlan();
      await h.click(REJECT_ACTION, id, ts, 'U_DAVE', blocks);
      const eph = await eventually(() => h.byMethod('chat.postEphemeral')[0]);
      expect(eph.args.user).toBe('U_DAVE');
      expect(textOf(eph)).toContain('Only the requester or <@U_BOB>, <!subteam^SAPPROVERS1> may reject');
      expect((await h.slack.approvals.get(id))?.state).toBe('pending');
      await h.close();
      expect(h.byMethod('chat.update')).toHaveLength(0);
      expect(h.audit.entries.find((e) => e.action === 'approval.refused')).toMatchObject({
        identity: 'slack:U_DAVE',
        detail: `reject request ${id}: not an approver`,
      });
      expect(h.audit.entries.some((e) => e.action === 'approval.rejected')).toBe(false);
    });
  });

  it.each([
    ['the requester (withdrawing)', 'U_ALICE'],
    ['an approver', 'U_BOB'],
    ['a member of an approver group', 'U_CAROL'],
  ])('lets %s reject', async (_who, user) => {
    const { id, ts, blocks } = await h.requestPlan();
    await h.click(REJECT_ACTION, id, ts, user, blocks);
    const update = await eventually(() => h.byMethod('chat.update')[0]);
    expect(textOf(update)).toContain(`Rejected by <@${user}>`);
    expect((await h.slack.approvals.get(id))?.state).toBe('rejected');
  });
});
