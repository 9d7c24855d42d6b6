import type { SlackCall } from '../../sandbox/slack';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';
import { eventually } from '../helpers/eventually';
import {
  appHomeOpenedBody,
  EVENT_CONTENT_TYPE,
  postSigned,
  slashCommandBody,
} from '../helpers/slack-signing';

const NAME = 'payment-gateway-api';
const CHANNEL = 'C_PLATFORM';

describe('history, status drift and the Home tab after a rotation (real Bolt, engine and doubles)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
    const run = await h.services.service.start({
      credential: NAME,
      requester: { kind: 'slack', id: 'U0ALICE' },
      approver: { kind: 'slack', id: 'U0BOB' },
    });
    const done = await h.waitForRun(run.id, undefined, 60_000);
    expect(done.outcome).toBe('succeeded');
    // Afterwards (check-dependencies would refuse the rotation): a deployment nobody declared pulls the whole secret in with envFrom.
    h.world.kubernetes.addDeployment({
      namespace: 'payments',
      name: 'cron-reconciler',
      secretRefs: [{ secret: 'payment-gateway-secret', via: 'envFrom' }],
    });
  }, 90_000);
  afterAll(async () => {
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  const calls = (method: string): SlackCall[] => h.world.slack.calls().filter((c) => c.method === method);
  async function command(text: string, id: string): Promise<string> {
    const res = await postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      slashCommandBody({
        text,
        user: 'U0CAROL',
        channel: CHANNEL,
        responseUrl: h.world.slack.responseUrl(id),
      }),
    );
    expect(res.status).toBe(200);
    const reply = await eventually(() => calls('response_url').find((c) => c.responseUrlId === id), 10_000);
    return JSON.stringify(reply.args.blocks);
  }

  it('/rotate history shows the run: procedure, outcome, requester, approver, start, duration, versions', async () => {
    const shown = await command(`history ${NAME}`, 'history');
    expect(shown).toContain('*scheduled* succeeded');
    expect(shown).toContain('requested by <@U0ALICE>, approved by <@U0BOB>');
    expect(shown).toMatch(/started <!date\^\d+\^/);
    expect(shown).toMatch(/took \d+( ms| s| min)/);
    // Seeded as version 1: the new key is version 2, the record (previous_key cleared) version 3.
    expect(shown).toContain('Vault versions 2, 3');
    expect(h.world.vault.versions(`api-credentials/${NAME}`)).toBe(3);
  });

  it('/rotate status shows the drift the cluster has', async () => {
    const shown = await command(`status ${NAME}`, 'status');
    expect(shown).toContain('*Drift*');
    expect(shown).toContain(
      'payments/cron-reconciler uses secret payment-gateway-secret but is not declared',
    );
    const other = await command('status crm-integration', 'status-crm');
    expect(other).not.toContain('Drift');
  });

  it('publishes the Home tab on app_home_opened, through the signed event endpoint', async () => {
    const res = await postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      appHomeOpenedBody({ user: 'U0DAVE' }),
      {
        contentType: EVENT_CONTENT_TYPE,
      },
    );
    expect(res.status).toBe(200);
    const published = await eventually(() => calls('views.publish')[0], 10_000);
    expect(published.args.user_id).toBe('U0DAVE');
    const view = published.args.view as { type: string; blocks: unknown[] };
    expect(view.type).toBe('home');
    const shown = JSON.stringify(view.blocks);
    // Rotated today: ok, next due in 30 days (high risk), last outcome succeeded.
    expect(shown).toMatch(
      /payment-gateway-api\* — ok · next due <!date\^\d+\^\{date_short\}\|[^>]+> \(in 30 days\) · last: succeeded/,
    );
    // The runbook's other two were last rotated in 2024: overdue, never run by the bot.
    expect(shown).toMatch(/crm-integration\* — overdue · was due .* · last: no run yet/);
    // The summary line counts what the rows show (the shipped catalog grows with each issuer kind).
    const overdue = (shown.match(/— overdue · /g) ?? []).length;
    expect(overdue).toBeGreaterThanOrEqual(2);
    expect(shown).toContain(`🔴 ${overdue} overdue`);
    expect(shown).toContain('payments/cron-reconciler');
    expect(shown).toContain('*Runs in progress*\\nNone.');
    // What Slack accepted is what the double now holds for that user.
    expect(
      await h.world.slack.calls().filter((c) => c.method === 'views.publish' && c.status === 200),
    ).toHaveLength(1);
  });

  it('publishes nothing when the Messages tab is opened', async () => {
    const before = calls('views.publish').length;
    const res = await postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      appHomeOpenedBody({ user: 'U0DAVE', tab: 'messages' }),
      { contentType: EVENT_CONTENT_TYPE },
    );
    expect(res.status).toBe(200);
    // A Home-tab event sent after it is published: the Messages one, handled first, published nothing.
    await postSigned(h.slackEndpoint, h.env.SLACK_SIGNING_SECRET!, appHomeOpenedBody({ user: 'U0ERIN' }), {
      contentType: EVENT_CONTENT_TYPE,
    });
    await eventually(() => calls('views.publish').find((c) => c.args.user_id === 'U0ERIN'), 10_000);
    expect(calls('views.publish').filter((c) => c.args.user_id === 'U0DAVE')).toHaveLength(before);
  });
});
