import { APPROVE_ACTION } from '../../../src/slack/views';
import { blockActionBody, postSigned, slashCommandBody } from '../../helpers/slack-signing';
import { eventually } from '../../helpers/eventually';
import { SECRET, startHarness, type AppHarness } from './app-harness';

let h: AppHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

/** A real click payload with `user` changed (removed when `user` is undefined). */
function clickWithUser(id: string, ts: string, user: unknown): string {
  const body = blockActionBody({
    actionId: APPROVE_ACTION,
    value: id,
    user: 'U_BOB',
    messageTs: ts,
    responseUrl: h.double.responseUrl('act'),
  });
  const payload = JSON.parse(new URLSearchParams(body).get('payload')!) as Record<string, unknown>;
  if (user === undefined) delete payload.user;
  else payload.user = user;
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

describe('a click payload without a user', () => {
  it.each([
    ['no user at all', undefined],
    ['a user without an id', { name: 'bob' }],
  ])('is answered 400 (%s) and decides nothing', async (_case, user) => {
    const { id, ts } = await h.requestPlan();
    const res = await postSigned(h.endpoint, SECRET, clickWithUser(id, ts, user));
    expect(res.status).toBe(400);
    expect((await h.slack.approvals.get(id))?.state).toBe('pending');
    expect(h.requests.started).toHaveLength(0);
    // The endpoint keeps serving real clicks.
    expect((await h.click(APPROVE_ACTION, id, ts, 'U_BOB')).status).toBe(200);
    await eventually(() => h.requests.started.length === 1);
  });
});

describe('a slash command without user_id', () => {
  it('is answered 400 and posts nothing', async () => {
    const body = new URLSearchParams(
      slashCommandBody({
        text: 'payment-gateway-api',
        user: 'U_ALICE',
        responseUrl: h.double.responseUrl('c'),
      }),
    );
    body.delete('user_id');
    const res = await postSigned(h.endpoint, SECRET, body.toString());
    expect(res.status).toBe(400);
    await h.close();
    expect(h.byMethod('chat.postMessage')).toHaveLength(0);
    expect(h.byMethod('response_url')).toHaveLength(0);
  });
});

describe('when Slack retries a slash command', () => {
  it('acks the retry and processes the command once', async () => {
    const body = slashCommandBody({
      text: 'payment-gateway-api',
      user: 'U_ALICE',
      responseUrl: h.double.responseUrl('c'),
      triggerId: '13345224609.738474920.8088930838d88f008e0',
    });
    expect((await postSigned(h.endpoint, SECRET, body)).status).toBe(200);
    const retry = await postSigned(h.endpoint, SECRET, body, {
      headers: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' },
    });
    expect(retry.status).toBe(200);
    await eventually(() => h.byMethod('chat.postMessage')[0]);
    await h.close();
    expect(h.byMethod('chat.postMessage')).toHaveLength(1);
    expect(h.audit.entries.filter((e) => e.action === 'approval.requested')).toHaveLength(1);
  });

  it('still processes two different commands sent at the same moment', async () => {
    const send = (user: string) =>
      postSigned(
        h.endpoint,
        SECRET,
        slashCommandBody({ text: 'crm-integration', user, responseUrl: h.double.responseUrl(user) }),
      );
    const statuses = await Promise.all([send('U_ALICE'), send('U_ERIN')]);
    expect(statuses.map((r) => r.status)).toEqual([200, 200]);
    await eventually(() => h.byMethod('chat.postMessage').length === 2);
  });
});
