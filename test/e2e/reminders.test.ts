import type { SlackCall } from '../../sandbox/slack';
import { REMINDER_JOB } from '../../src/queue/names';
import { APPROVE_ACTION, ROTATE_NOW_ACTION, SNOOZE_ACTION } from '../../src/slack/views';
import { eventually } from '../helpers/eventually';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

const PAYMENTS = 'C_PAYMENTS';
const NAME = 'payment-gateway-api';

type Blocks = Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
const buttons = (blocks: unknown, actionId: string) =>
  (blocks as Blocks)
    .flatMap((b) => b.elements ?? [])
    .filter((e) => e.action_id === actionId)
    .map((e) => e.value);

describe('weekly digests driven through the real Bolt endpoint', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({
      // No tick of its own during the test: each test runs the reminder job when it wants a digest.
      extraEnv: { REMINDER_CRON: '0 0 1 1 *' },
      // Two overdue credentials in the payments channel, so one can be snoozed and a digest still posts.
      editCatalog: (c) => {
        c.credentials.find((x) => x.name === 'crm-integration')!.channel = PAYMENTS;
      },
    });
  });
  afterEach(async () => {
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  const posts = (channel: string): SlackCall[] =>
    h.world.slack.calls().filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel);
  const digests = (channel: string) =>
    posts(channel).filter((c) => String(c.args.text).startsWith('Rotation digest'));
  const ephemeralTo = (user: string) =>
    h.world.slack.calls().filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user);

  /** Runs one reminder tick as the scheduler would, and returns the payments digest it posted. */
  let ticks = 0;
  async function tick(): Promise<{ ts: string; blocks: unknown; text: string }> {
    const before = digests(PAYMENTS).length;
    ticks += 1;
    await h.services.maintenanceQueue.add(
      REMINDER_JOB,
      { tick: Date.now() + ticks },
      { jobId: `t-${ticks}` },
    );
    const call = await eventually(() => digests(PAYMENTS)[before], 15_000);
    const ts = await eventually(
      () => h.world.slack.messages(PAYMENTS).find((m) => m.text === call.args.text)?.ts,
    );
    return { ts, blocks: call.args.blocks, text: String(call.args.text) };
  }
  const click = (actionId: string, value: string, user: string, ts: string) =>
    h.click(actionId, value, user, PAYMENTS, ts);

  it('Rotate now opens the plan in the channel, and the approval rules still apply', async () => {
    const digest = await tick();
    expect(buttons(digest.blocks, ROTATE_NOW_ACTION)).toEqual(
      expect.arrayContaining([NAME, 'crm-integration']),
    );
    expect((await click(ROTATE_NOW_ACTION, NAME, 'U0ALICE', digest.ts)).status).toBe(200);
    const plan = await eventually(() =>
      posts(PAYMENTS).find((c) => buttons(c.args.blocks, APPROVE_ACTION).length),
    );
    expect(JSON.stringify(plan.args.blocks)).toMatch(/\d+ days old, policy 30 days: overdue/);
    const requestId = buttons(plan.args.blocks, APPROVE_ACTION)[0]!;
    const planTs = await eventually(async () => (await h.slack.approvals.get(requestId))?.messageTs);

    // The clicker requested it: approving it themselves is refused, and nothing starts.
    await click(APPROVE_ACTION, requestId, 'U0ALICE', planTs);
    await eventually(() =>
      ephemeralTo('U0ALICE').find((c) => JSON.stringify(c.args).includes('someone else must approve')),
    );
    expect(await h.services.service.history(NAME)).toEqual([]);

    await click(APPROVE_ACTION, requestId, 'U0BOB', planTs);
    const run = await eventually(async () => (await h.services.service.history(NAME))[0]);
    expect(run.requester).toMatchObject({ kind: 'slack', id: 'U0ALICE' });
    expect(run.approver).toMatchObject({ kind: 'slack', id: 'U0BOB' });
    expect((await h.waitForRun(run.id, undefined, 30_000)).outcome).toBe('succeeded');
  });

  it('refuses Snooze from a non-owner; an owner’s snooze shows in the next digest, by whom until when', async () => {
    const first = await tick();
    expect(buttons(first.blocks, SNOOZE_ACTION)).toEqual(expect.arrayContaining([NAME]));

    // Alice is no approver of payment-gateway-api (U0BOB, U0CAROL): refused, audited, nothing stored.
    await click(SNOOZE_ACTION, NAME, 'U0ALICE', first.ts);
    const refusal = await eventually(() => ephemeralTo('U0ALICE')[0]);
    expect(JSON.stringify(refusal.args)).toContain(
      'Only the owners of `payment-gateway-api` (<@U0BOB>, <@U0CAROL>)',
    );
    const audit = await h.services.audit.recent({ credential: NAME, limit: 20 });
    expect(audit.find((a) => a.action === 'reminder.snooze.refused')).toMatchObject({
      identity: 'slack:U0ALICE',
      outcome: 'refused',
    });
    const unchanged = await tick();
    expect(buttons(unchanged.blocks, SNOOZE_ACTION)).toContain(NAME);
    expect(JSON.stringify(unchanged.blocks)).not.toContain('Snoozed');

    await click(SNOOZE_ACTION, NAME, 'U0BOB', first.ts);
    await eventually(() =>
      ephemeralTo('U0BOB').find((c) => JSON.stringify(c.args).includes('snoozed until')),
    );
    const snoozed = (await h.services.audit.recent({ credential: NAME, limit: 20 })).find(
      (a) => a.action === 'reminder.snoozed',
    );
    expect(snoozed).toMatchObject({ identity: 'slack:U0BOB', outcome: 'info' });
    const until = /until (\S+)/.exec(snoozed!.detail!)![1]!;

    const next = await tick();
    expect(buttons(next.blocks, ROTATE_NOW_ACTION)).toEqual(['crm-integration']);
    const shown = JSON.stringify(next.blocks);
    expect(shown).toContain(`💤 *${NAME}*`);
    expect(shown).toContain(`snoozed by <@U0BOB> until <!date^${Math.floor(Date.parse(until) / 1000)}^`);
  });
});
