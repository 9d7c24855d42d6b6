import pino from 'pino';
import { createSlackDouble, type SlackDouble } from '../../../sandbox/slack';
import { createWebClient, SlackNotifier } from '../../../src/adapters/chat/slack-notifier';
import { ChannelPacer } from '../../../src/adapters/chat/channel-pacer';
import { newRun, type Run } from '../../../src/domain/run';
import { runViews } from '../../../src/slack/views';
import { spec } from './fake-requests';

const TOKEN = 'xoxb-notifier';
let double: SlackDouble;

beforeEach(async () => {
  double = await createSlackDouble({ botToken: TOKEN });
});
afterEach(() => double.close());

const client = () =>
  createWebClient({
    token: TOKEN,
    slackApiUrl: double.url,
    logger: pino({ level: 'silent' }),
    retryConfig: { retries: 2, minTimeout: 10, maxTimeout: 50 },
  });

function run(): Run {
  return newRun({
    id: 'run-1',
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U_ALICE' },
    approver: { kind: 'slack', id: 'U_BOB' },
    now: new Date(),
    slack: { channel: 'C_PLATFORM', threadTs: '1732650000.000100' },
  });
}

function advance(r: Run, i: number): Run {
  const steps = r.steps.map((s, j) =>
    j < i ? { ...s, status: 'done' as const } : j === i ? { ...s, status: 'running' as const } : s,
  );
  return { ...r, steps, updatedAt: new Date().toISOString() };
}

const methods = () =>
  double
    .calls()
    .filter((c) => c.status === 200)
    .map((c) => c.method);

describe('SlackNotifier', () => {
  it('posts the progress message once in the thread, then edits it with the latest state', async () => {
    const n = new SlackNotifier({ client: client(), views: runViews, pacer: new ChannelPacer(100) });
    let r = run();
    const first = await n.progress(advance(r, 0));
    expect(first.progressTs).toBeDefined();
    r = { ...r, slack: { ...r.slack!, progressTs: first.progressTs! } };
    for (let i = 1; i <= 5; i++) await n.progress(advance(r, i));
    await n.idle();
    expect(methods().filter((m) => m === 'chat.postMessage')).toHaveLength(1);
    const updates = methods().filter((m) => m === 'chat.update').length;
    expect(updates).toBeGreaterThanOrEqual(1);
    expect(updates).toBeLessThan(5); // coalesced
    const msg = double.messages('C_PLATFORM')[0]!;
    expect(msg.threadTs).toBe('1732650000.000100');
    expect(JSON.stringify(msg.blocks)).toContain('⏳ Revoke old credential');
    expect(JSON.stringify(msg.blocks)).toContain('✓ Verify every consumer');
  });

  it('never posts twice when progress is reported concurrently before the ts is known', async () => {
    const n = new SlackNotifier({ client: client(), views: runViews, pacer: new ChannelPacer(10) });
    const [a, b] = await Promise.all([n.progress(advance(run(), 0)), n.progress(advance(run(), 1))]);
    await n.idle();
    expect(a.progressTs).toBe(b.progressTs);
    expect(methods().filter((m) => m === 'chat.postMessage')).toHaveLength(1);
  });

  it('waits out a 429 for its Retry-After and then succeeds', async () => {
    double.rateLimit('chat.postMessage', 1, 1);
    const n = new SlackNotifier({ client: client(), views: runViews, pacer: new ChannelPacer(10) });
    const t0 = Date.now();
    const res = await n.progress(run());
    expect(res.progressTs).toBeDefined();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1_000);
    const calls = double.calls().filter((c) => c.method === 'chat.postMessage');
    expect(calls.map((c) => c.status)).toEqual([429, 200]);
  });

  it('paces posts to one channel at about one per second', async () => {
    const n = new SlackNotifier({ client: client(), views: runViews });
    const runs = [1, 2, 3].map((i) => ({ ...run(), id: `run-${i}` }));
    await Promise.all(runs.map((r) => n.progress(r)));
    const at = double
      .calls()
      .filter((c) => c.method === 'chat.postMessage')
      .map((c) => Date.parse(c.at))
      .sort();
    expect(at).toHaveLength(3);
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(900);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(900);
  });

  it('sends the summary to the thread and to the credential channel', async () => {
    const n = new SlackNotifier({ client: client(), views: runViews, pacer: new ChannelPacer(10) });
    const done: Run = {
      ...run(),
      status: 'finished',
      outcome: 'rolled_back',
      failure: {
        step: 'verify',
        code: 'verify_failed',
        message: 'web-app health returned 401',
        hint: 'app_401_after_rotation',
      },
    };
    await n.summary(done, spec('payment-gateway-api'));
    const posts = double.calls().filter((c) => c.method === 'chat.postMessage');
    expect(posts.map((c) => [c.args.channel, c.args.thread_ts])).toEqual([
      ['C_PLATFORM', '1732650000.000100'],
      ['C_PAYMENTS', undefined],
    ]);
    expect(JSON.stringify(posts[0]!.args.blocks)).toContain('New credential not deployed to application');
  });

  it('throws when the summary cannot be posted', async () => {
    const n = new SlackNotifier({ client: client(), views: runViews, pacer: new ChannelPacer(10) });
    const s = { ...spec('payment-gateway-api'), channel: ' ' };
    const r: Run = { ...run(), slack: { channel: ' ' }, status: 'finished', outcome: 'succeeded' };
    await expect(n.summary(r, s)).rejects.toMatchObject({
      message: expect.stringContaining('channel_not_found'),
    });
  });

  describe('channelProblem', () => {
    const notifier = (d: SlackDouble) =>
      new SlackNotifier({
        client: createWebClient({
          token: TOKEN,
          slackApiUrl: d.url,
          logger: pino({ level: 'silent' }),
          retryConfig: { retries: 0 },
        }),
        views: runViews,
        fallbackChannel: 'C_SECURITY',
      });

    it('finds nothing wrong with a channel the bot is in, the fallback channel included', async () => {
      const n = notifier(double);
      expect(await n.channelProblem('C_PAYMENTS')).toBeUndefined();
      expect(await n.channelProblem(undefined)).toBeUndefined();
    });

    it('names a channel that does not exist, and an archived one', async () => {
      const n = notifier(double);
      expect(await n.channelProblem('C_GONE')).toBe(
        'channel C_GONE does not exist or the bot cannot see it (channel_not_found)',
      );
      double.addChannel({ id: 'C_OLD', name: 'old', archived: true });
      expect(await n.channelProblem('C_OLD')).toBe(
        '#old (C_OLD) is archived: Slack refuses posts there (is_archived)',
      );
    });

    it('says the bot is not in a public channel when its token lacks chat:write.public', async () => {
      double.addChannel({ id: 'C_OUTSIDE', name: 'outside', botMember: false });
      expect(await notifier(double).channelProblem('C_OUTSIDE')).toBeUndefined();
      const narrow = await createSlackDouble({ botToken: TOKEN, scopes: ['chat:write', 'channels:read'] });
      try {
        narrow.addChannel({ id: 'C_OUTSIDE', name: 'outside', botMember: false });
        expect(await notifier(narrow).channelProblem('C_OUTSIDE')).toBe(
          'the bot is not in #outside (C_OUTSIDE): Slack refuses its posts there (not_in_channel); invite it with /invite',
        );
      } finally {
        await narrow.close();
      }
    });

    it('does not guess about a channel given by name (conversations.info takes ids)', async () => {
      expect(await notifier(double).channelProblem('payments')).toBeUndefined();
      expect(double.calls().filter((c) => c.method === 'conversations.info')).toEqual([]);
    });
  });
});
