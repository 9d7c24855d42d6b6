import pino from 'pino';
import { createSlackDouble, type SlackDouble } from '../../../sandbox/slack';
import { createWebClient, SlackNotifier } from '../../../src/adapters/chat/slack-notifier';
import { newRun, type Run } from '../../../src/domain/run';
import { runViews } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { spec } from './fake-requests';
import { notifyWorld, TOKEN, type NotifyWorld } from './notify-world';

const THREAD = '1732650000.000100';
let w: NotifyWorld;
let double: SlackDouble;

afterEach(() => w.close());
const start = async (opts: Parameters<typeof notifyWorld>[0] = {}) => {
  w = await notifyWorld(opts);
  double = w.double;
};

function run(id = 'run-1', thread = THREAD): Run {
  return newRun({
    id,
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U_ALICE' },
    approver: { kind: 'slack', id: 'U_BOB' },
    now: new Date(),
    slack: { channel: 'C_PLATFORM', threadTs: thread },
  });
}

function advance(r: Run, i: number): Run {
  const steps = r.steps.map((s, j) =>
    j < i ? { ...s, status: 'done' as const } : j === i ? { ...s, status: 'running' as const } : s,
  );
  return { ...r, steps, updatedAt: new Date().toISOString() };
}

const finished = (r: Run): Run => ({
  ...r,
  status: 'finished',
  outcome: 'succeeded',
  steps: r.steps.map((s) => ({ ...s, status: 'done' as const })),
});

const ok = (method: string, channel?: string) =>
  double
    .calls()
    .filter((c) => c.method === method && c.status === 200 && (!channel || c.args.channel === channel));
const progressOf = (r: Run) =>
  double
    .messages('C_PLATFORM')
    .find((m) => m.text?.startsWith('Rotation of') && m.threadTs === r.slack?.threadTs);

describe('SlackNotifier', () => {
  describe('progress', () => {
    beforeEach(() => start());

    it('posts one message in the thread, then edits it to the newest saved state, coalescing bursts', async () => {
      const r = run();
      await w.report(advance(r, 0));
      await eventually(() => progressOf(r));
      for (let i = 1; i <= 6; i++) await w.report(advance(r, i));
      await eventually(() => progressOf(r)?.text === 'Rotation of payment-gateway-api: 6/8 steps done');

      expect(ok('chat.postMessage')).toHaveLength(1);
      const msg = progressOf(r)!;
      expect(msg.threadTs).toBe(THREAD);
      expect(JSON.stringify(msg.blocks)).toContain('⏳ Update metadata and audit');
      expect(JSON.stringify(msg.blocks)).toContain('✓ Verify every consumer');
      expect(ok('chat.update').length).toBeLessThan(6); // coalesced: the newest state wins
      expect(await w.progress.message(r.id)).toEqual({ channel: 'C_PLATFORM', ts: msg.ts });
    });

    it('never posts twice when two replicas report before the message exists', async () => {
      await w.close();
      await start({ replicas: 2 });
      const r = run();
      await Promise.all([w.report(advance(r, 0), 0), w.report(advance(r, 1), 1), w.report(advance(r, 2), 1)]);
      await eventually(() => progressOf(r)?.text === 'Rotation of payment-gateway-api: 2/8 steps done');
      expect(ok('chat.postMessage')).toHaveLength(1);
    });

    it('defers on a 429 for its Retry-After instead of waiting in the job, then posts', async () => {
      double.rateLimit('chat.postMessage', 1, 1);
      const r = run();
      await w.report(r);
      await eventually(() => progressOf(r), 10_000);
      const calls = double.calls().filter((c) => c.method === 'chat.postMessage');
      expect(calls.map((c) => c.status)).toEqual([429, 200]);
    });

    it('reports nothing for a run not started from Slack', async () => {
      const { slack: _none, ...cli } = run();
      await w.report(cli);
      await w.notifier.summary(finished(cli), spec('payment-gateway-api'));
      await eventually(() => ok('chat.postMessage', 'C_PAYMENTS')[0]);
      expect(ok('chat.postMessage', 'C_PLATFORM')).toEqual([]);
    });
  });

  describe('remind', () => {
    beforeEach(() => start());

    it("queues a manual run's reminder in its thread, a new message people are notified of", async () => {
      await w.notifier.remind(run(), '⏰ still waiting for someone to click *Stored*');
      const posted = await eventually(() => ok('chat.postMessage', 'C_PLATFORM')[0]);
      expect(posted.args.thread_ts).toBe(THREAD);
      expect(posted.args.text).toBe('⏰ still waiting for someone to click *Stored*');
    });
  });

  describe("under Slack's own limit of one message per second per channel", () => {
    beforeEach(() => start({ channelIntervalMs: 1_100 }));

    it('paces the first posts of many runs in one channel so Slack never answers 429', async () => {
      const runs = Array.from({ length: 7 }, (_, i) => run(`run-${i}`, `1732650000.00010${i}`));
      await Promise.all(runs.map((r) => w.report(r)));
      await eventually(() => ok('chat.postMessage', 'C_PLATFORM').length === runs.length, 20_000);
      expect(double.calls().filter((c) => c.status === 429)).toEqual([]);
    }, 30_000);
  });

  describe('summary', () => {
    beforeEach(() => start());

    it('goes to the thread and to the credential channel, once each however often notify runs', async () => {
      const r = run();
      await w.report(r);
      await eventually(() => progressOf(r));
      const done: Run = {
        ...finished(r),
        outcome: 'rolled_back',
        failure: {
          step: 'verify',
          code: 'verify_failed',
          message: 'web-app health returned 401',
          hint: 'app_401_after_rotation',
        },
      };
      await w.notifier.summary(done, spec('payment-gateway-api'));
      await w.notifier.summary(done, spec('payment-gateway-api')); // the step again, after a crash
      await eventually(() => ok('chat.postMessage').length === 3);
      const posts = ok('chat.postMessage').slice(1);
      expect(posts.map((c) => [c.args.channel, c.args.thread_ts]).sort()).toEqual([
        ['C_PAYMENTS', undefined],
        ['C_PLATFORM', THREAD],
      ]);
      expect(JSON.stringify(posts[0]!.args.blocks)).toContain('New credential not deployed to application');
      await w.settled();
      expect(ok('chat.postMessage')).toHaveLength(3);
    });

    it('keeps the summaries of two threads in one channel apart', async () => {
      const [a, b] = [run('run-a', '1732650000.000201'), run('run-b', '1732650000.000202')];
      const { channel: _c, ...noChannel } = spec('payment-gateway-api');
      // Both wait in the outbox together: the channel's slot is taken while they are queued.
      await w.replicas[0]!.outbox.inSlot('C_PLATFORM', async () => {
        await w.notifier.summary(finished(a), noChannel);
        await w.notifier.summary(finished(b), noChannel);
      });
      await eventually(() => ok('chat.postMessage', 'C_PLATFORM').length === 2);
      const threads = ok('chat.postMessage', 'C_PLATFORM').map((c) => [
        c.args.thread_ts,
        JSON.stringify(c.args).includes('run-b'),
      ]);
      expect(threads.sort()).toEqual([
        ['1732650000.000201', false],
        ['1732650000.000202', true],
      ]);
    });

    it('a channel that refuses it: the run says so in words, and the security channel gets it', async () => {
      const r = finished(run());
      w.saved.set(r.id, r);
      const s = { ...spec('payment-gateway-api'), channel: 'C_GONE' };
      await w.notifier.summary(r, s);
      const said = await eventually(() => w.saved.get(r.id)?.notifyError);
      expect(said).toContain('C_GONE (channel_not_found)');
      expect(said).toMatch(/I can't see <#C_GONE>/);
      const moved = await eventually(() => ok('chat.postMessage', 'C_SECURITY')[0]);
      expect(JSON.stringify(moved.args)).toContain('Could not post this in <#C_GONE>');
      expect(w.saved.get(r.id)?.outcome).toBe('succeeded');
    });

    it('a refusal reaches a run only once it has finished, without losing the summary', async () => {
      const r = run();
      w.saved.set(r.id, { ...r, status: 'running' });
      const s = { ...spec('payment-gateway-api'), channel: 'C_GONE' };
      await w.notifier.summary(finished(r), s);
      await eventually(() => double.calls().some((c) => c.args.channel === 'C_GONE'));
      w.saved.set(r.id, finished(r)); // the engine's last save
      expect(await eventually(() => w.saved.get(r.id)?.notifyError)).toContain('channel_not_found');
      await eventually(() => ok('chat.postMessage', 'C_SECURITY')[0]);
    });
  });

  describe('channelProblem', () => {
    beforeEach(() => start());
    const notifier = (d: SlackDouble) =>
      new SlackNotifier({
        client: createWebClient({
          token: TOKEN,
          slackApiUrl: d.url,
          logger: pino({ level: 'silent' }),
          retryConfig: { retries: 0 },
        }),
        views: runViews,
        summaries: w.replicas[0]!.outbox,
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
