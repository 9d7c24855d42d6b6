import type { SlackCall } from '../../../sandbox/slack';
import { EMERGENCY_REVIEWED_ACTION, EMERGENCY_START_ACTION } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';
import { spec } from './fake-requests';
import { notifyWorld } from './notify-world';

const INC = { channel: 'C_INC_2024_0042', channelName: 'inc-2024-0042' };
const PLATFORM = { channel: 'C_PLATFORM', channelName: 'platform' };

let h: AppHarness;
beforeEach(async () => {
  h = await startHarness({
    access: { requesters: [], approvers: ['U_BOB', 'SAPPROVERS1'], responders: ['U_RESP', 'SRESPONDERS'] },
    userGroups: { SAPPROVERS1: ['U_CAROL'], SRESPONDERS: ['U_ERIN'] },
  });
});
afterEach(() => h.close());

const said = (c: SlackCall | undefined) => JSON.stringify(c?.args ?? {});
const answerTo = (user: string) =>
  eventually(() =>
    h.double.calls().find((c) => c.method === 'response_url' && c.responseUrlId === `cmd-${user}`),
  );
const ephemeralTo = (user: string) =>
  eventually(() => h.byMethod('chat.postEphemeral').find((c) => c.args.user === user));
const settle = () => new Promise((r) => setTimeout(r, 300));

interface Posted {
  ts: string;
  channel: string;
  blocks: Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>;
}

/** The scope message posted with its button, and the request id the button carries. */
async function scopeMessage(channel = INC.channel): Promise<Posted & { id: string }> {
  const post = await eventually(() =>
    h
      .byMethod('chat.postMessage')
      .find((c) => c.args.channel === channel && said(c).includes(EMERGENCY_START_ACTION)),
  );
  const blocks = post.args.blocks as Posted['blocks'];
  const id =
    blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === EMERGENCY_START_ACTION)?.value ?? '';
  const ts = await eventually(async () => (await h.slack.emergencies.get(id))?.messageTs);
  return { id, ts, channel, blocks };
}

describe('/rotate emergency', () => {
  describe('when the requester is not a responder', () => {
    it('refuses, audits the refusal and starts nothing', async () => {
      await h.command('emergency payment-gateway-api', 'U_ALICE', INC);
      const answer = await answerTo('U_ALICE');
      expect(said(answer)).toMatch(/Only responders may start an emergency rotation/);
      expect(said(answer)).toContain('<@U_RESP>');
      expect(h.audit.entries).toContainEqual(
        expect.objectContaining({
          action: 'emergency.refused',
          identity: 'slack:U_ALICE',
          outcome: 'refused',
        }),
      );
      await settle();
      expect(h.byMethod('chat.postMessage')).toHaveLength(0);
      expect(h.requests.emergencies).toHaveLength(0);
    });
  });

  describe('when one name of three is unknown', () => {
    it('refuses the whole request, naming the unknown one', async () => {
      await h.command('emergency payment-gateway-api payment-gateway-apj crm-integration', 'U_RESP', INC);
      const answer = await answerTo('U_RESP');
      expect(said(answer)).toContain('`payment-gateway-apj` is not in the catalog');
      expect(said(answer)).toContain('Nothing was started');
      expect(said(answer)).not.toContain('`crm-integration` is not');
      await settle();
      expect(h.byMethod('chat.postMessage')).toHaveLength(0);
      expect(h.requests.emergencies).toHaveLength(0);
      expect(h.audit.entries).toContainEqual(
        expect.objectContaining({ action: 'emergency.refused', detail: 'unknown: payment-gateway-apj' }),
      );
    });
  });

  describe('in an incident channel', () => {
    it('takes the incident reference from the channel name and shows the scope with one button', async () => {
      await h.command('emergency payment-gateway-api', 'U_RESP', INC);
      const msg = await scopeMessage();
      const text = JSON.stringify(msg.blocks);
      expect(text).toContain('INC-2024-0042');
      expect(text).toContain('`key_payment-gateway-api`');
      expect(text).toContain('fails until restarted: web-app');
      expect(text).toContain('deadline 15 min from the click');
      expect(text).toContain('Revoke and rotate now');
      const stored = await getRequest(msg.id);
      expect(stored).toMatchObject({
        credentials: ['payment-gateway-api'],
        incident: { ref: 'INC-2024-0042', channel: INC.channel },
        requester: 'U_RESP',
        state: 'pending',
      });
      expect(h.requests.emergencies).toHaveLength(0); // nothing before the click
    });

    it('prefers a reference given in the command', async () => {
      await h.command('emergency payment-gateway-api INC-2024-0099', 'U_RESP', INC);
      const msg = await scopeMessage();
      expect((await getRequest(msg.id))?.incident.ref).toBe('INC-2024-0099');
    });

    it('reads a private channel’s name with conversations.info', async () => {
      await h.command('emergency payment-gateway-api', 'U_RESP', {
        channel: 'G_INC_2024_0043',
        channelName: 'privategroup',
      });
      const msg = await scopeMessage('G_INC_2024_0043');
      expect((await getRequest(msg.id))?.incident.ref).toBe('INC-2024-0043');
      expect(h.byMethod('conversations.info')[0]?.args.channel).toBe('G_INC_2024_0043');
    });
  });

  describe('outside an incident channel', () => {
    it('requires the incident reference', async () => {
      await h.command('emergency payment-gateway-api', 'U_RESP', PLATFORM);
      const answer = await answerTo('U_RESP');
      expect(said(answer)).toMatch(/is not an incident channel.*give the incident reference/);
      await settle();
      expect(h.byMethod('chat.postMessage')).toHaveLength(0);
    });

    it('accepts it given, and the incident lives in this channel', async () => {
      await h.command('emergency --issuer payment-provider.example.com INC-2024-0100', 'U_RESP', PLATFORM);
      const msg = await scopeMessage(PLATFORM.channel);
      expect(await getRequest(msg.id)).toMatchObject({
        credentials: ['payment-gateway-api', 'crm-integration', 'monitoring-service'],
        incident: { ref: 'INC-2024-0100', channel: 'C_PLATFORM' },
      });
    });
  });
});

describe('@credential-rotator compromised …', () => {
  it('strips the bot’s mention, looks the channel name up and shows the scope', async () => {
    const res = await h.mention('compromised payment-gateway-api crm-integration', 'U_ERIN', INC.channel);
    expect(res.status).toBe(200);
    const msg = await scopeMessage();
    expect(await getRequest(msg.id)).toMatchObject({
      credentials: ['payment-gateway-api', 'crm-integration'],
      incident: { ref: 'INC-2024-0042', channel: INC.channel },
      requester: 'U_ERIN',
    });
    expect(h.byMethod('conversations.info').map((c) => c.args.channel)).toEqual([INC.channel]);
  });

  it('refuses a non-responder in an ephemeral answer', async () => {
    await h.mention('compromised payment-gateway-api', 'U_ALICE', INC.channel);
    expect(said(await ephemeralTo('U_ALICE'))).toMatch(/Only responders/);
    await settle();
    expect(h.byMethod('chat.postMessage')).toHaveLength(0);
  });

  it('requires the reference outside an incident channel', async () => {
    await h.mention('compromised payment-gateway-api', 'U_RESP', PLATFORM.channel);
    expect(said(await ephemeralTo('U_RESP'))).toMatch(/not an incident channel/);
  });

  it('explains itself when the mention is not a report', async () => {
    await h.mention('hello there', 'U_RESP', INC.channel);
    expect(said(await ephemeralTo('U_RESP'))).toMatch(/compromised &lt;name&gt;|compromised <name>/);
  });
});

describe('Revoke and rotate now', () => {
  it('refuses a non-responder’s click and starts nothing', async () => {
    await h.command('emergency payment-gateway-api', 'U_RESP', INC);
    const msg = await scopeMessage();
    await h.click(EMERGENCY_START_ACTION, msg.id, msg.ts, 'U_ALICE', msg.blocks, INC.channel);
    expect(said(await ephemeralTo('U_ALICE'))).toMatch(/Only responders may start/);
    expect(h.requests.emergencies).toHaveLength(0);
    expect((await getRequest(msg.id))?.state).toBe('pending');
    expect(h.audit.entries).toContainEqual(
      expect.objectContaining({ action: 'emergency.refused', identity: 'slack:U_ALICE' }),
    );
  });

  it('starts once under a double click, then replaces the button with who started which runs', async () => {
    await h.command('emergency payment-gateway-api crm-integration', 'U_RESP', INC);
    const msg = await scopeMessage();
    const clicks = await Promise.all([
      h.click(EMERGENCY_START_ACTION, msg.id, msg.ts, 'U_RESP', msg.blocks, INC.channel),
      h.click(EMERGENCY_START_ACTION, msg.id, msg.ts, 'U_ERIN', msg.blocks, INC.channel),
    ]);
    expect(clicks.map((c) => c.status)).toEqual([200, 200]);
    const update = await eventually(() => h.byMethod('chat.update')[0]);
    await settle();
    expect(h.requests.emergencies).toHaveLength(1);
    expect(h.requests.emergencies[0]).toEqual({
      credentials: ['payment-gateway-api', 'crm-integration'],
      incident: { ref: 'INC-2024-0042', channel: INC.channel },
      requester: { kind: 'slack', id: expect.stringMatching(/^U_(RESP|ERIN)$/) },
    });
    expect(said(update)).toMatch(
      /Started by <@U_(RESP|ERIN)>: runs `run-1` \(payment-gateway-api\), `run-2` \(crm-integration\)/,
    );
    expect(said(update)).not.toContain(EMERGENCY_START_ACTION);
    expect(h.byMethod('chat.update')).toHaveLength(1);
    expect(said(h.byMethod('chat.postEphemeral')[0])).toMatch(/already started by/);
  });
});

describe('Reviewed', () => {
  it('is refused to the responder who started the run and to non-approvers, then audited once', async () => {
    await h.command('emergency payment-gateway-api', 'U_RESP', INC);
    const msg = await scopeMessage();
    await h.click(EMERGENCY_START_ACTION, msg.id, msg.ts, 'U_RESP', msg.blocks, INC.channel);
    const run = await eventually(() => h.requests.runs.get('run-1'));
    // The engine's notify step: the summary to the incident channel and to the security channel.
    const chat = await notifyWorld({ double: { double: h.double, token: 'xoxb-test-token' } });
    const finished = {
      ...run,
      status: 'finished' as const,
      outcome: 'succeeded' as const,
      facts: {
        compromisedKeyIds: ['key_1'],
        revokedAt: new Date().toISOString(),
        verifiedAt: new Date().toISOString(),
      },
    };
    try {
      await chat.notifier.summary(finished, spec('payment-gateway-api'));
      await chat.settled();
    } finally {
      await chat.close();
    }
    const inIncident = h.double.messages(INC.channel).at(-1)!;
    expect(JSON.stringify(inIncident.blocks)).toContain('Run `run-1`');
    expect(JSON.stringify(inIncident.blocks)).not.toContain(EMERGENCY_REVIEWED_ACTION);
    const security = h.double.messages('C_SECURITY')[0]!;
    expect(JSON.stringify(security.blocks)).toContain(EMERGENCY_REVIEWED_ACTION);
    const blocks = security.blocks as unknown[];

    await h.click(EMERGENCY_REVIEWED_ACTION, 'run-1', security.ts, 'U_RESP', blocks, 'C_SECURITY');
    expect(said(await ephemeralTo('U_RESP'))).toMatch(/someone else reviews it/);
    await h.click(EMERGENCY_REVIEWED_ACTION, 'run-1', security.ts, 'U_ALICE', blocks, 'C_SECURITY');
    expect(said(await ephemeralTo('U_ALICE'))).toMatch(/Only <@U_BOB>, <!subteam\^SAPPROVERS1> may review/);
    expect(h.audit.entries.filter((e) => e.action === 'emergency.reviewed')).toHaveLength(0);

    await h.click(EMERGENCY_REVIEWED_ACTION, 'run-1', security.ts, 'U_CAROL', blocks, 'C_SECURITY');
    const update = await eventually(() =>
      h.byMethod('chat.update').find((c) => c.args.channel === 'C_SECURITY'),
    );
    expect(said(update)).toContain('Reviewed by <@U_CAROL> at');
    expect(said(update)).not.toContain(EMERGENCY_REVIEWED_ACTION);
    const reviewed = h.audit.entries.filter((e) => e.action === 'emergency.reviewed');
    expect(reviewed).toEqual([
      expect.objectContaining({
        runId: 'run-1',
        credential: 'payment-gateway-api',
        identity: 'slack:U_CAROL',
      }),
    ]);
    expect(Date.parse(reviewed[0]!.time!)).toBeGreaterThan(Date.now() - 60_000);

    await h.click(EMERGENCY_REVIEWED_ACTION, 'run-1', security.ts, 'U_BOB', blocks, 'C_SECURITY');
    expect(said(await ephemeralTo('U_BOB'))).toMatch(/Already reviewed by <@U_CAROL>/);
    expect(h.audit.entries.filter((e) => e.action === 'emergency.reviewed')).toHaveLength(1);
  });
});

describe('/rotate incident', () => {
  it('shows the timeline from the runs and the audit trail', async () => {
    await h.command('emergency payment-gateway-api', 'U_RESP', INC);
    const msg = await scopeMessage();
    await h.click(EMERGENCY_START_ACTION, msg.id, msg.ts, 'U_RESP', msg.blocks, INC.channel);
    const run = await eventually(() => h.requests.runs.get('run-1'));
    const revokedAt = '2026-11-27T08:40:00.000Z';
    Object.assign(run, { status: 'finished', outcome: 'succeeded' });
    run.facts = {
      compromisedKeyIds: ['key_old'],
      revokedAt,
      deployedAt: '2026-11-27T08:41:00.000Z',
      verificationPending: true,
    };
    await h.audit.record({
      runId: 'run-1',
      credential: 'payment-gateway-api',
      action: 'incident.record',
      outcome: 'info',
      identity: 'slack:U_RESP',
      detail: 'Emergency Credential Rotation\nEarliest suspicious use: 2026-11-26T23:12:00Z',
    });
    await h.command('incident inc-2024-0042', 'U_ALICE', PLATFORM);
    const answer = said(await answerTo('U_ALICE'));
    expect(answer).toContain('Timeline of INC-2024-0042');
    expect(answer).toContain('payment-gateway-api');
    expect(answer).toContain('`key_old`');
    expect(answer).toContain(`Revoked: <!date^${Math.floor(Date.parse(revokedAt) / 1000)}`);
    expect(answer).toContain('Verification: pending');
    expect(answer).toContain('by <@U_RESP>');
    expect(answer).toContain('Earliest suspicious use: 2026-11-26T23:12:00Z');
  });

  it('says so when the incident has no emergency runs', async () => {
    await h.command('incident INC-1999-0001', 'U_ALICE', PLATFORM);
    expect(said(await answerTo('U_ALICE'))).toContain('No emergency rotation is recorded for INC-1999-0001');
  });
});

function getRequest(id: string) {
  return h.slack.emergencies.get(id);
}
