import type { SlackCall } from '../../sandbox/slack';
import { APPROVE_ACTION } from '../../src/slack/views';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';
import { eventually } from '../helpers/eventually';
import { blockActionBody, postSigned, slashCommandBody } from '../helpers/slack-signing';

const NAME = 'payment-gateway-api';
const CHANNEL = 'C_PLATFORM';

type Blocks = Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;

describe('a scheduled rotation driven from Slack', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  const calls = (method: string, channel?: string): SlackCall[] =>
    h.world.slack.calls().filter((c) => c.method === method && (!channel || c.args.channel === channel));
  const command = (text: string, user: string) =>
    postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      slashCommandBody({
        text,
        user,
        channel: CHANNEL,
        responseUrl: h.world.slack.responseUrl(`cmd-${user}`),
      }),
    );
  const click = (id: string, ts: string, user: string) =>
    postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      blockActionBody({
        actionId: APPROVE_ACTION,
        value: id,
        user,
        channel: CHANNEL,
        messageTs: ts,
        responseUrl: h.world.slack.responseUrl(`act-${user}`),
      }),
    );

  async function requestPlan(user = 'U0ALICE'): Promise<{ id: string; ts: string; blocks: Blocks }> {
    const res = await command(NAME, user);
    expect(res.status).toBe(200);
    const plan = await eventually(() => calls('chat.postMessage', CHANNEL)[0]);
    const blocks = plan.args.blocks as Blocks;
    const id = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === APPROVE_ACTION)!.value;
    const ts = await eventually(() => h.world.slack.messages(CHANNEL)[0]?.ts);
    await eventually(async () => (await h.slack.approvals.get(id))?.messageTs);
    return { id, ts, blocks };
  }

  it('goes from /rotate to the final summary: plan, approval, live progress, summary', async () => {
    const { id, ts, blocks } = await requestPlan();
    const planText = JSON.stringify(blocks);
    expect(planText).toMatch(/\d+ days old, policy 30 days: overdue/);
    for (const c of ['web-app', 'mobile-backend', 'batch-processor']) expect(planText).toContain(c);

    expect((await click(id, ts, 'U0BOB')).status).toBe(200);
    const [run] = await eventually(async () => {
      const runs = await h.services.service.history(NAME);
      return runs.length > 0 && runs[0]!.status === 'finished' ? runs : undefined;
    }, 20_000);

    expect(run!.outcome).toBe('succeeded');
    expect(run!.requester).toMatchObject({ kind: 'slack', id: 'U0ALICE' });
    expect(run!.approver).toMatchObject({ kind: 'slack', id: 'U0BOB' });
    // One progress message in the plan's thread, edited in place.
    const progressTs = (await eventually(() => h.services.runProgress.message(run!.id))).ts;
    const progress = calls('chat.postMessage', CHANNEL).filter((c) => c.args.thread_ts === ts);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    const updates = await eventually(() => {
      const u = calls('chat.update', CHANNEL).filter((c) => c.args.ts === progressTs);
      return u.length > 0 && JSON.stringify(u[u.length - 1]!.args).includes('✓') ? u : undefined;
    });
    expect(updates.length).toBeGreaterThanOrEqual(1);
    // The summary: in the thread and in the credential's channel.
    const summary = await eventually(() => calls('chat.postMessage', 'C_PAYMENTS')[0]);
    const summaryText = JSON.stringify(summary.args);
    expect(summaryText).toContain(run!.id);
    expect(summaryText).toContain('U0BOB');
    expect(
      calls('chat.postMessage', CHANNEL).some(
        (c) => c.args.thread_ts === ts && JSON.stringify(c.args).includes(run!.id),
      ),
    ).toBe(true);
    // The doubles agree: the old key is revoked, the new one in service.
    expect(h.world.provider.keys().find((k) => k.id === h.world.seededKeyIds.get(NAME))?.status).toBe(
      'revoked',
    );
    expect(h.world.vault.current('api-credentials/payment-gateway-api')!.data.api_key_id).toBe(
      run!.facts.newKeyId,
    );
  });

  it("ends with the progress message in the run's final state under Slack's default rate limits", async () => {
    const { id, ts } = await requestPlan();
    // Another part of the app has just spent chat.update's Tier 3 minute: the run's updates meet 429s.
    const api = (method: string, form: Record<string, string>) =>
      fetch(`${h.world.slack.url}${method}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.env.SLACK_BOT_TOKEN!}` },
        body: new URLSearchParams(form),
      });
    const other = (await (await api('chat.postMessage', { channel: 'C_SRE', text: 'x' })).json()) as {
      ts: string;
    };
    for (let i = 0; i < 50; i++) await api('chat.update', { channel: 'C_SRE', ts: other.ts, text: `x${i}` });

    expect((await click(id, ts, 'U0BOB')).status).toBe(200);
    const run = await eventually(async () => {
      const r = (await h.services.service.history(NAME))[0];
      return r?.status === 'finished' ? r : undefined;
    }, 30_000);
    expect(run.outcome).toBe('succeeded');
    const at = await eventually(() => h.services.runProgress.message(run.id));
    const final = `Rotation of ${NAME}: ${run.steps.length}/${run.steps.length} steps done`;
    const progress = await eventually(
      () => h.world.slack.messages(CHANNEL).find((m) => m.ts === at.ts && m.text === final),
      15_000,
    );
    const limited = calls('chat.update').filter((c) => c.status === 429 && c.args.channel === CHANNEL);
    expect(limited.length).toBeGreaterThan(0);
    const shown = JSON.stringify(progress?.blocks);
    expect(shown).toContain(`Rotation of *${NAME}*: done`);
    expect(shown).not.toMatch(/⏳|○/);
  });

  it('refuses self-approval, then starts exactly one run when approvers click at once', async () => {
    // Bob may approve this credential, but not his own request.
    const { id, ts } = await requestPlan('U0BOB');
    const self = await click(id, ts, 'U0BOB');
    expect(self.status).toBe(200);
    const refusal = await eventually(() =>
      calls('chat.postEphemeral').find((c) => JSON.stringify(c.args).includes('someone else must approve')),
    );
    expect(refusal.args.user).toBe('U0BOB');
    expect(await h.services.service.history(NAME)).toEqual([]);

    await Promise.all([click(id, ts, 'U0CAROL'), click(id, ts, 'U0CAROL'), click(id, ts, 'U0BOB')]);
    const run = await eventually(async () => (await h.services.service.history(NAME))[0]);
    await h.waitForRun(run.id);
    expect(await h.services.service.history(NAME)).toHaveLength(1);
    const jobs = await h.services.queue.getJobs(['waiting', 'active', 'delayed', 'completed']);
    expect(jobs).toHaveLength(1);
  });

  describe('when nobody decides before the approval expires', () => {
    it('replaces the buttons with "expired" by itself, audits it, and a late click starts nothing', async () => {
      await h.close();
      h = await startHarness({ extraEnv: { APPROVAL_TTL_MINUTES: '0.02' } }); // 1.2 s
      const { id, ts } = await requestPlan();
      const closed = await eventually(
        () =>
          calls('chat.update', CHANNEL).find(
            (c) => c.args.ts === ts && JSON.stringify(c.args).includes('expired'),
          ),
        10_000,
      );
      expect((closed.args.blocks as Blocks).some((b) => b.type === 'actions')).toBe(false);
      expect((await h.slack.approvals.get(id))?.state).toBe('expired');
      const audit = await h.services.audit.recent({ credential: NAME });
      expect(audit.some((a) => a.action === 'approval.expired')).toBe(true);

      await click(id, ts, 'U0BOB');
      await eventually(() => calls('chat.postEphemeral').find((c) => c.args.user === 'U0BOB'));
      expect(await h.services.service.history(NAME)).toEqual([]);
    });
  });
});

describe('the plan of a credential whose channel the bot cannot post in', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  const planFor = async (user: string) => {
    const res = await postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      slashCommandBody({
        text: `plan ${NAME}`,
        user,
        channel: CHANNEL,
        responseUrl: h.world.slack.responseUrl(`plan-${user}`),
      }),
    );
    expect(res.status).toBe(200);
    const answer = await eventually(() =>
      h.world.slack
        .calls()
        .find(
          (c) =>
            c.responseUrlId === `plan-${user}` ||
            (c.method === 'chat.postMessage' && c.args.channel === CHANNEL),
        ),
    );
    return JSON.stringify(answer.args);
  };

  it('says the channel does not exist before anything is rotated', async () => {
    h.world.slack.removeChannel('C_PAYMENTS');
    const plan = await planFor('U0ALICE');
    expect(plan).toContain('Summary channel');
    expect(plan).toContain('channel C_PAYMENTS does not exist or the bot cannot see it (channel_not_found)');
    expect(await h.services.service.history(NAME)).toEqual([]);
    expect(h.world.provider.activeKeys()).toHaveLength(4); // no key was created
  });

  it('says so for a private channel without the bot, and for an archived channel', async () => {
    h.world.slack.addChannel({ id: 'C_PAYMENTS', name: 'payments', private: true, botMember: false });
    // A private channel the bot is not in is invisible to it: conversations.info cannot tell the two apart.
    expect(await planFor('U0ALICE')).toContain('(channel_not_found)');
    h.world.slack.addChannel({ id: 'C_PAYMENTS', name: 'payments', archived: true });
    expect(await h.services.service.plan(NAME)).toMatchObject({
      channelProblem: '#payments (C_PAYMENTS) is archived: Slack refuses posts there (is_archived)',
    });
  });
});
