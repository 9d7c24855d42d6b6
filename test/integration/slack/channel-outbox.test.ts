import type { SlackDouble } from '../../../sandbox/slack';
import { newRun } from '../../../src/domain/run';
import type { ChannelOutbox } from '../../../src/slack/channel-outbox';
import { eventually } from '../../helpers/eventually';
import { notifyWorld, type NotifyWorld } from './notify-world';

let w: NotifyWorld | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const CHANNEL = 'C_INC_2024_0042';

const note = (text: string) => ({ text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] });

/** How many times `text` reached `channel` (the double's stored messages, merged ones included). */
function times(double: SlackDouble, channel: string, text: string): number {
  return double
    .messages(channel)
    .map((m) => (m.text ?? '').split('\n').filter((line) => line === text).length)
    .reduce((a, b) => a + b, 0);
}

/** Queues `texts` while the channel's slot is taken, so the next drain reads them as one batch. */
async function queueAsOneBatch(outbox: ChannelOutbox, texts: string[]): Promise<void> {
  const held = await outbox.inSlot(CHANNEL, async () => {
    for (const t of texts) await outbox.post(CHANNEL, note(t));
  });
  expect('value' in held).toBe(true);
}

describe('ChannelOutbox', () => {
  it('posts each item once when a Slack call outlasts the slot’s lock', async () => {
    w = await notifyWorld({ lockMs: 300, channelIntervalMs: 50 });
    const { double, redis, prefix } = w;
    const outbox = w.replicas[0]!.outbox;
    // The first post takes far longer than the lock lasts; later drains keep polling the slot.
    double.faults.add({ method: 'POST', path: '/api/chat.postMessage', latencyMs: 1_500, times: 1 });
    await outbox.post(CHANNEL, note('first'));
    await eventually(async () => (await redis.exists(`${prefix}:outbox:${CHANNEL}:lock`)) > 0);
    await outbox.post(CHANNEL, note('second'));
    await outbox.post(CHANNEL, note('third'));
    await eventually(() => ['first', 'second', 'third'].every((t) => times(double, CHANNEL, t) > 0), 10_000);
    await w.settled();
    expect(['first', 'second', 'third'].map((t) => times(double, CHANNEL, t))).toEqual([1, 1, 1]);
    expect(await redis.llen(`${prefix}:outbox:${CHANNEL}:items`)).toBe(0);
  });

  it('posts a refused batch’s items one by one, so only the bad one goes to the fallback', async () => {
    w = await notifyWorld({ channelIntervalMs: 50 });
    const { double } = w;
    // The merged message is refused for one item in it, and then that item alone (the first).
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 200,
      body: { ok: false, error: 'invalid_blocks' },
      times: 2,
    });
    await queueAsOneBatch(w.replicas[0]!.outbox, ['bad', 'good-1', 'good-2']);
    await eventually(() => times(double, CHANNEL, 'good-2') === 1, 10_000);
    await w.settled();
    expect(['bad', 'good-1', 'good-2'].map((t) => times(double, CHANNEL, t))).toEqual([0, 1, 1]);
    const moved = JSON.stringify(double.messages('C_SECURITY'));
    expect(moved).toContain('invalid_blocks');
    expect(moved).toContain('bad');
    expect(moved).not.toContain('good-');
  });

  it('sends a whole batch to the fallback when the channel itself refuses', async () => {
    w = await notifyWorld({ channelIntervalMs: 50 });
    const { double } = w;
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 200,
      body: { ok: false, error: 'is_archived' },
      times: 1,
    });
    await queueAsOneBatch(w.replicas[0]!.outbox, ['one', 'two']);
    await eventually(() => double.messages('C_SECURITY').length > 0, 10_000);
    await w.settled();
    const moved = JSON.stringify(double.messages('C_SECURITY'));
    expect(moved).toContain('one');
    expect(moved).toContain('two');
    expect(double.messages(CHANNEL)).toEqual([]);
  });

  it('drains, at the resume tick, what a drain job that used up its attempts left behind', async () => {
    w = await notifyWorld({ channelIntervalMs: 50 });
    const { double, redis, prefix } = w;
    const outbox = w.replicas[0]!.outbox;
    // The channel refuses, and the run cannot take the refusal yet (unfinished): every attempt throws.
    const run = newRun({
      id: 'run-outbox',
      credential: 'payment-gateway-api',
      requester: { kind: 'slack', id: 'U_RESP' },
      now: new Date(),
    });
    w.saved.set(run.id, run);
    double.faults.add({
      method: 'POST',
      path: '/api/chat.postMessage',
      status: 200,
      body: { ok: false, error: 'is_archived' },
    });
    await outbox.post(CHANNEL, note('left behind'), { runId: run.id });
    await w.settled(); // its five attempts failed; nothing more is queued
    expect(await redis.llen(`${prefix}:outbox:${CHANNEL}:items`)).toBe(1);
    double.faults.clear();
    expect(await outbox.resume()).toEqual([CHANNEL]);
    await eventually(() => times(double, CHANNEL, 'left behind') === 1, 10_000);
    await w.settled();
    expect(await outbox.resume()).toEqual([]);
  });
});
