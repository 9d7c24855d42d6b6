import pino from 'pino';
import { createSlackDouble, type SlackDouble } from '../../../sandbox/slack';
import { ChannelPacer } from '../../../src/adapters/chat/channel-pacer';
import { createWebClient, SlackNotifier } from '../../../src/adapters/chat/slack-notifier';
import { newRun, type Run } from '../../../src/domain/run';
import { runViews } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { spec } from './fake-requests';

const TOKEN = 'xoxb-notifier';
const T0 = Date.parse('2026-11-26T10:00:00Z');
const THREAD = '1732650000.000100';
let double: SlackDouble;
let notifier: SlackNotifier;
/** chat.update calls the notifier has started (they reach the double 300 ms later). */
let updatesStarted: jest.SpyInstance;

beforeEach(async () => {
  double = await createSlackDouble({ botToken: TOKEN });
  const client = createWebClient({
    token: TOKEN,
    slackApiUrl: double.url,
    logger: pino({ level: 'silent' }),
    retryConfig: { retries: 0 },
  });
  updatesStarted = jest.spyOn(client.chat, 'update');
  notifier = new SlackNotifier({ client, views: runViews, pacer: new ChannelPacer(10) });
});
afterEach(async () => {
  await notifier.idle();
  await double.close();
});

/** The run as the engine saves it with `done` steps finished and the next one running, `done` seconds in. */
function state(done: number, progressTs?: string): Run {
  const run = newRun({
    id: 'run-1',
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U0ALICE' },
    approver: { kind: 'slack', id: 'U0BOB' },
    now: new Date(T0),
    slack: { channel: 'C_PLATFORM', threadTs: THREAD, ...(progressTs ? { progressTs } : {}) },
  });
  run.status = 'running';
  run.outcome = done >= 7 ? 'succeeded' : undefined;
  if (run.outcome === undefined) delete run.outcome;
  run.updatedAt = new Date(T0 + done * 1_000).toISOString();
  run.steps.forEach((s, i) => {
    if (i < done) Object.assign(s, { status: 'done', startedAt: run.createdAt, endedAt: run.updatedAt });
    else if (i === done) Object.assign(s, { status: 'running', startedAt: run.updatedAt });
  });
  return run;
}

/** Every chat.update to reach the double lands 300 ms late, like Slack under load. */
const slowUpdates = () => double.faults.add({ method: 'POST', path: '/api/chat.update', latencyMs: 300 });
const updateTexts = () =>
  double
    .calls()
    .filter((c) => c.method === 'chat.update')
    .map((c) => c.args.text);
const progressMessage = () => double.messages('C_PLATFORM').find((m) => m.text?.startsWith('Rotation of'));

describe('SlackNotifier ordering, with chat.update delayed', () => {
  it('never sends a state older than one already sent or queued', async () => {
    const { progressTs } = await notifier.progress(state(0));
    slowUpdates();
    await notifier.progress(state(2, progressTs));
    await eventually(() => updatesStarted.mock.calls.length === 1); // in flight
    await notifier.progress(state(5, progressTs)); // queued behind it
    await notifier.progress(state(3, progressTs)); // reported late: older than the queued one
    await notifier.idle();
    await notifier.progress(state(4, progressTs)); // older than the one sent
    await notifier.idle();
    expect(updateTexts()).toEqual([
      'Rotation of payment-gateway-api: 2/8 steps done',
      'Rotation of payment-gateway-api: 5/8 steps done',
    ]);
    expect(progressMessage()?.text).toBe('Rotation of payment-gateway-api: 5/8 steps done');
  });

  it('ends the thread at the summary: later progress calls are dropped, none re-posts', async () => {
    // As when the engine's progress call timed out before the ts was known: run.slack has no progressTs.
    await notifier.progress(state(0));
    slowUpdates();
    await notifier.progress(state(6));
    await notifier.summary(state(7), spec('payment-gateway-api'));
    await notifier.progress(state(6)); // a late update from before the summary
    const finished = { ...state(7), status: 'finished' as const };
    await notifier.progress(finished); // the engine's own last call
    await notifier.idle();

    const thread = double.messages('C_PLATFORM').filter((m) => m.threadTs === THREAD);
    expect(thread.map((m) => m.text?.split(' (')[0])).toEqual([
      'Rotation of payment-gateway-api: 8/8 steps done',
      '✓ Rotated: payment-gateway-api',
    ]);
    expect(updateTexts().at(-1)).toBe('Rotation of payment-gateway-api: 8/8 steps done');
    expect(JSON.stringify(progressMessage()?.blocks)).toContain('Rotation of *payment-gateway-api*: done');
  });

  it('keeps updating the progress message when the summary could not be posted', async () => {
    const { progressTs } = await notifier.progress(state(0));
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 200,
      body: { ok: false, error: 'is_archived' },
      times: 1,
    });
    await expect(notifier.summary(state(7, progressTs), spec('payment-gateway-api'))).rejects.toThrow(
      'is_archived',
    );
    await notifier.progress({ ...state(7, progressTs), status: 'finished' });
    await notifier.idle();
    expect(updateTexts()).toEqual(['Rotation of payment-gateway-api: 7/8 steps done']);
  });
});
