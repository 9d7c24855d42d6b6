import type { SlackCall } from '../../sandbox/slack';
import { EMERGENCY_REVIEWED_ACTION, EMERGENCY_START_ACTION } from '../../src/slack/views';
import { startHarness, type Harness } from '../helpers/harness';
import { findLeaks } from '../helpers/leaks';
import { postSigned, slashCommandBody } from '../helpers/slack-signing';
import { eventually } from '../helpers/eventually';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const INC_CHANNEL = 'C_INC_2024_0042';
const INC_NAME = 'inc-2024-0042';

type Blocks = Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;

/** Emergency rotation from an incident channel, end to end: signed Slack requests, real Bolt, engine, Redis. */
describe('an emergency rotation started in an incident channel', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ rolloutDelayMs: 300 });
  });
  afterEach(async () => {
    const leaks = await findLeaks(h).finally(() => h.close());
    expect(leaks).toEqual([]);
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
        channel: INC_CHANNEL,
        channelName: INC_NAME,
        responseUrl: h.world.slack.responseUrl(`cmd-${user}-${Date.now()}`),
      }),
    );
  const click = (actionId: string, value: string, user: string, channel: string, ts: string) =>
    h.click(actionId, value, user, channel, ts);
  const buttonIn = (call: SlackCall, actionId: string) =>
    (call.args.blocks as Blocks).flatMap((b) => b.elements ?? []).find((e) => e.action_id === actionId);
  const revocations = () => h.world.provider.keys().filter((k) => k.revokedAtMs !== undefined);

  it('revokes and rotates after one responder click, records the incident, and the review is audited', async () => {
    const compromised = h.world.vault.current(PATH)!.data.api_key as string;
    expect((await command(`emergency ${NAME}`, 'U0ALICE')).status).toBe(200);
    const scope = await eventually(() =>
      calls('chat.postMessage', INC_CHANNEL).find((c) => buttonIn(c, EMERGENCY_START_ACTION)),
    );
    expect(JSON.stringify(scope.args.blocks)).toContain(h.world.seededKeyIds.get(NAME)!);
    expect(revocations()).toEqual([]); // nothing happens before the deliberate click
    const ts = await eventually(
      () =>
        h.world.slack
          .messages(INC_CHANNEL)
          .find((m) => JSON.stringify(m.blocks).includes(EMERGENCY_START_ACTION))?.ts,
    );
    const value = buttonIn(scope, EMERGENCY_START_ACTION)!.value;
    expect((await click(EMERGENCY_START_ACTION, value, 'U0ERIN', INC_CHANNEL, ts)).status).toBe(200);

    const [run] = await eventually(async () => {
      const runs = await h.services.service.incidentRuns('INC-2024-0042');
      return runs.length > 0 && runs[0]!.status === 'finished' ? runs : undefined;
    }, 30_000);
    expect(run!.outcome).toBe('succeeded');
    expect(run!.incident).toEqual({ ref: 'INC-2024-0042', channel: INC_CHANNEL });
    expect(h.world.provider.accepts(compromised)).toBe(false);
    expect(h.world.vault.current(PATH)!.data.incident_reference).toBe('INC-2024-0042');

    // The incident record in the runbook's format, in the incident channel.
    const record = await eventually(() =>
      calls('chat.postMessage', INC_CHANNEL).find((c) =>
        JSON.stringify(c.args).includes('Emergency Credential Rotation'),
      ),
    );
    expect(JSON.stringify(record.args)).toContain('Verification complete: [complete]');
    // The summary for the security channel, with Reviewed; an approver acknowledges it.
    const summary = await eventually(() =>
      calls('chat.postMessage', 'C_SECURITY').find((c) => buttonIn(c, EMERGENCY_REVIEWED_ACTION)),
    );
    const summaryTs = await eventually(
      () =>
        h.world.slack
          .messages('C_SECURITY')
          .find((m) => JSON.stringify(m.blocks).includes(EMERGENCY_REVIEWED_ACTION))?.ts,
    );
    const reviewed = buttonIn(summary, EMERGENCY_REVIEWED_ACTION)!.value;
    expect((await click(EMERGENCY_REVIEWED_ACTION, reviewed, 'U0BOB', 'C_SECURITY', summaryTs)).status).toBe(
      200,
    );
    const audit = await eventually(async () =>
      (await h.services.audit.recent({ credential: NAME, limit: 200 })).find(
        (a) => a.action === 'emergency.reviewed',
      ),
    );
    expect(audit.identity).toBe('slack:U0BOB');
  });

  it('refuses someone who is not a responder, and starts nothing', async () => {
    expect((await command(`emergency ${NAME}`, 'U0BOB')).status).toBe(200);
    await eventually(async () =>
      (await h.services.audit.recent({ limit: 50 })).find((a) => a.action === 'emergency.refused'),
    );
    expect(calls('chat.postMessage', INC_CHANNEL).filter((c) => buttonIn(c, EMERGENCY_START_ACTION))).toEqual(
      [],
    );
    expect(revocations()).toEqual([]);
    expect(await h.services.service.incidentRuns('INC-2024-0042')).toEqual([]);
  });

  it('refuses a list with an unknown name, naming it, before anything is revoked', async () => {
    expect((await command(`emergency ${NAME} crm-integraton monitoring-service`, 'U0ALICE')).status).toBe(
      200,
    );
    const answer = await eventually(() =>
      h.world.slack
        .calls()
        .find((c) => c.method === 'response_url' && JSON.stringify(c.args).includes('crm-integraton')),
    );
    expect(JSON.stringify(answer.args)).toMatch(/crm-integraton/);
    expect(calls('chat.postMessage', INC_CHANNEL).filter((c) => buttonIn(c, EMERGENCY_START_ACTION))).toEqual(
      [],
    );
    expect(revocations()).toEqual([]);
  });
});
