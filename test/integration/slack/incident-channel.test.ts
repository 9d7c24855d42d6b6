import { createWebClient } from '../../../src/adapters/chat/slack-notifier';
import { isRotatorError } from '../../../src/domain/errors';
import type { IncidentRecord } from '../../../src/domain/incident';
import { newRun, type Run } from '../../../src/domain/run';
import { ChannelOutbox } from '../../../src/slack/channel-outbox';
import { createIncidentChannel } from '../../../src/slack/incident-channel';
import type { SlackDouble } from '../../../sandbox/slack';
import { eventually } from '../../helpers/eventually';
import { testRedis } from '../../helpers/redis';
import { notifyWorld, TOKEN, type NotifyWorld } from './notify-world';

let w: NotifyWorld;
let double: SlackDouble;
let prefix: string;
let outbox: ChannelOutbox;

beforeEach(async () => {
  w = await notifyWorld();
  ({ double, prefix } = w);
  outbox = w.replicas[0]!.outbox;
});
afterEach(() => w.close());

const channel = () => createIncidentChannel({ outbox, securityChannel: 'C_SECURITY' });

const run = (): Run =>
  newRun({
    id: 'run-9',
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U_RESP' },
    procedure: 'emergency',
    incident: { ref: 'INC-2024-0042', channel: 'C_INC_2024_0042' },
    now: new Date(),
  });

const posts = () => double.calls().filter((c) => c.method === 'chat.postMessage');

const record = (credential: string): IncidentRecord => ({
  incident: 'INC-2024-0042',
  credential,
  compromisedKeyIds: ['key_old'],
  newKeyId: 'key_new',
  revokedAt: '2026-11-27T08:40:00Z',
  deployedAt: '2026-11-27T08:41:00Z',
  verification: 'complete',
  rotatedBy: 'slack:U_RESP',
  earliestSuspicious: '2026-11-26T23:12:00Z',
  scope: 'done',
});

describe('IncidentChannel on Slack, through the channel outbox', () => {
  it('escalates to the incident channel with the runbook row for the hint', async () => {
    await channel().escalate(run(), {
      text: '⚠ `payment-gateway-api`: web-app still answers 401',
      hint: 'app_401_cached',
      once: 'escalation:verify',
    });
    await eventually(() => posts().length === 1);
    expect(posts().map((c) => c.args.channel)).toEqual(['C_INC_2024_0042']);
    const text = JSON.stringify(posts()[0]!.args.blocks);
    expect(text).toContain('web-app still answers 401');
    expect(text).toContain('Runbook: Application returns 401 but credential is correct');
    expect(text).toContain('Restart the application pod or process');
  });

  it('copies a security escalation to the security channel', async () => {
    await channel().escalate(run(), {
      text: 'half the deadline has passed',
      security: true,
      once: 'deadline:half',
    });
    await eventually(() => posts().length === 2);
    expect(
      posts()
        .map((c) => c.args.channel)
        .sort(),
    ).toEqual(['C_INC_2024_0042', 'C_SECURITY']);
  });

  it('posts the incident record in the runbook’s format', async () => {
    await channel().record(run(), record('payment-gateway-api'));
    await eventually(() => posts().length === 1);
    const text = JSON.stringify(posts()[0]!.args.blocks);
    expect(text).toContain('Emergency Credential Rotation');
    expect(text).toContain('Revoked: 2026-11-27T08:40:00Z');
    expect(text).toContain('Verification complete: [complete]');
    expect(text).toContain('Earliest suspicious use: 2026-11-26T23:12:00Z');
  });

  it('folds many records for one channel into a few messages, every record kept, in order', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `cred-${String(i).padStart(2, '0')}`);
    // Reported at once, as a hundred runs of one incident do: none of them waits for Slack.
    await Promise.all(names.map((n) => channel().record({ ...run(), id: `run-${n}` }, record(n))));
    await eventually(() => names.every((n) => JSON.stringify(posts()).includes(`Credential: ${n}`)), 15_000);
    const ok = posts().filter((c) => c.status === 200);
    expect(ok.length).toBeLessThan(names.length / 5);
    for (const c of ok) expect((c.args.blocks as unknown[]).length).toBeLessThanOrEqual(50);
    const all = JSON.stringify(ok);
    const at = names.map((n) => all.indexOf(`Credential: ${n}`));
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(names.filter((n) => all.split(`Credential: ${n}\\n`).length !== 2)).toEqual([]);
  });

  it('posts an escalation and the record once per run when the step or job that raised them runs again', async () => {
    const twice = async () => {
      await channel().escalate(run(), {
        text: 'half the deadline has passed',
        security: true,
        once: 'deadline:half',
      });
      await channel().escalate(run(), {
        text: 'the deadline has passed',
        security: true,
        once: 'deadline:full',
      });
      await channel().record(run(), record('payment-gateway-api'));
    };
    await twice();
    await twice();
    await w.settled();
    const said = (channelId: string, text: string) =>
      double
        .messages(channelId)
        .map((m) => JSON.stringify(m.blocks).split(text).length - 1)
        .reduce((a, b) => a + b, 0);
    for (const where of ['C_INC_2024_0042', 'C_SECURITY']) {
      expect(said(where, 'half the deadline has passed')).toBe(1);
      expect(said(where, 'the deadline has passed') - said(where, 'half the deadline has passed')).toBe(1);
    }
    expect(said('C_INC_2024_0042', 'Emergency Credential Rotation')).toBe(1);
  });

  it('posts a rate-limited message later, once', async () => {
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 429,
      headers: { 'retry-after': '1' },
      body: { ok: false, error: 'ratelimited' },
      times: 1,
    });
    await channel().record(run(), record('payment-gateway-api'));
    await eventually(() => posts().some((c) => c.status === 200), 10_000);
    await new Promise((r) => setTimeout(r, 1_500));
    expect(posts().filter((c) => c.status === 200)).toHaveLength(1);
  });

  it('moves a message the incident channel refuses for good to the security channel, saying why', async () => {
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 200,
      body: { ok: false, error: 'not_in_channel' },
      times: 1,
    });
    await channel().escalate(run(), { text: 'web-app still answers 401', once: 'escalation:verify' });
    await eventually(() => posts().some((c) => c.args.channel === 'C_SECURITY'));
    const moved = JSON.stringify(posts().find((c) => c.args.channel === 'C_SECURITY')!.args.blocks);
    expect(moved).toContain('Could not post this in <#C_INC_2024_0042> (`not_in_channel`)');
    expect(moved).toContain('web-app still answers 401');
  });

  it('throws a transient coded error when the message cannot be queued, so the step retries', async () => {
    const closed = testRedis();
    await closed.quit();
    const unqueued = new ChannelOutbox({
      redis: closed,
      prefix: `${prefix}:`,
      client: createWebClient({ token: TOKEN, slackApiUrl: double.url }),
      enqueue: async () => undefined,
    });
    const e = await createIncidentChannel({ outbox: unqueued })
      .escalate(run(), { text: 'x', once: 'escalation:verify' })
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(isRotatorError(e) && e.code).toBe('queue_unavailable');
    expect(isRotatorError(e) && e.transient).toBe(true);
  });
});
