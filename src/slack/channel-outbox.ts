import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { RedisScript } from '../queue/redis-script';
import { PacedDrain, type Slot } from './paced-drain';
import { SLACK_PASSING_FAILURES, slackFailureOf } from './slack-errors';
import type { ChatMessage } from '../adapters/chat/slack-notifier';
import { context, divider } from './views/blocks';

export interface ChannelOutboxOptions {
  redis: Redis;
  /** Key prefix, e.g. "rotator:". */
  prefix: string;
  client: WebClient;
  /** Adds one drain job for `channel`, run in `delayMs` (the notifications queue). */
  enqueue: (channel: string, delayMs: number) => Promise<void>;
  /** Where a message goes when its channel refuses it for good (SECURITY_CHANNEL). */
  fallbackChannel?: string;
  /** At most one message per channel per interval (Slack allows about one a second). */
  intervalMs?: number;
  /**
   * A queued item that names its run was refused for good (archived, bot removed): tell the run.
   * Called before the item leaves the outbox; a throw leaves it there and fails the drain job, so
   * BullMQ tries again (the run may not have saved its end yet).
   */
  onRefused?: (refusal: { runId: string; channel: string; code: string }) => Promise<void>;
  logger?: PinoLogger;
  /** How long a drain's slot outlives a holder that died (default 30 s; tests shorten it). */
  lockMs?: number;
}

/** How a queued message is posted: in a thread, at most once, on behalf of a run. */
export interface OutboxPostOptions {
  /** Posts it as a reply in this thread; only items of the same thread fold into one message. */
  thread_ts?: string;
  /** Queues it once: a second post with the same id (a step run again after a crash) is dropped. */
  id?: string;
  /** The run it reports on, told through `onRefused` when the channel refuses it. */
  runId?: string;
}

interface Item {
  text: string;
  blocks: ChatMessage['blocks'];
  thread_ts?: string;
  runId?: string;
}

/** How long an item's id is remembered against a second post. */
const ONCE_SECONDS = 7 * 86_400;

// Queue an item unless its id was queued before (the marker is set with it, in one step), and note
// its channel among those with items waiting.
const PUSH_ONCE = new RedisScript(
  `
if ARGV[2] ~= '' and not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then return 0 end
redis.call('SADD', KEYS[3], ARGV[4])
return redis.call('RPUSH', KEYS[1], ARGV[1])
`,
  3,
);

// A channel leaves the pending set once its list is empty (atomically: a push in between re-adds it).
const FORGET_IF_EMPTY = new RedisScript(
  `if redis.call('LLEN', KEYS[1]) == 0 then return redis.call('SREM', KEYS[2], ARGV[1]) end return 0`,
  2,
);

// Remove what a drain posted, by identity (each exact item once), and only while its slot is still
// its own: a drain that lost its slot leaves the list to the one that holds it, which reads it anew.
const REMOVE_POSTED = new RedisScript(
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
local removed = 0
for i = 2, #ARGV do removed = removed + redis.call('LREM', KEYS[2], 1, ARGV[i]) end
if tonumber(redis.call('GET', KEYS[3]) or '0') > 0 then redis.call('DECRBY', KEYS[3], removed) end
return removed
`,
  3,
);

/** Slack's limit of blocks in one message. */
const MAX_BLOCKS = 50;
/** How long a refused batch's items are remembered as to be posted one by one. */
const SINGLE_MS = 86_400_000;

/** Refusals that are about the channel, not the message: every item would be refused there. */
function channelWide(code: string): boolean {
  return (
    ['not_in_channel', 'is_archived', 'channel_not_found'].includes(code) ||
    code.startsWith('restricted_action')
  );
}
/** Items read per drain: more than can ever fit in one message. */
const BATCH = 25;

/**
 * Messages that must reach a channel but need not hold anything up (escalations, incident records):
 * `post` appends to the channel's list in Redis and returns; a drain job on the notifications queue
 * posts what is waiting, several items as one message, at most one message per channel per
 * interval across every replica. A worker running a rotation never waits on a busy channel, and a
 * hundred runs reporting to one incident channel cost a few messages, not a hundred.
 */
export class ChannelOutbox {
  private readonly paced: PacedDrain;
  private readonly intervalMs: number;

  constructor(private readonly opts: ChannelOutboxOptions) {
    this.intervalMs = opts.intervalMs ?? 1_100;
    this.paced = new PacedDrain({
      redis: opts.redis,
      enqueue: opts.enqueue,
      intervalMs: this.intervalMs,
      keyOf: (channel) => `${opts.prefix}outbox:${channel}`,
      ...(opts.lockMs !== undefined ? { lockMs: opts.lockMs } : {}),
    });
  }

  private items(channel: string): string {
    return `${this.opts.prefix}outbox:${channel}:items`;
  }

  private pendingKey(): string {
    return `${this.opts.prefix}outbox:pending`;
  }

  private onceKey(id: string): string {
    return `${this.opts.prefix}outbox:once:${id}`;
  }

  /** Queues `view` for `channel`; resolves once it is safely in Redis, not once it is posted. */
  async post(channel: string, view: ChatMessage, opts: OutboxPostOptions = {}): Promise<void> {
    const item: Item = {
      text: view.text,
      blocks: view.blocks,
      ...(opts.thread_ts ? { thread_ts: opts.thread_ts } : {}),
      ...(opts.runId ? { runId: opts.runId } : {}),
    };
    const id = opts.id ?? '';
    await PUSH_ONCE.run(
      this.opts.redis,
      [this.items(channel), this.onceKey(id), this.pendingKey()],
      JSON.stringify(item),
      id,
      ONCE_SECONDS,
      channel,
    );
    // Even when it was queued before: that post may have died before scheduling its drain.
    await this.paced.schedule(channel);
  }

  /**
   * The resume tick: makes sure a drain is coming for every channel with items still waiting (a
   * drain job that used up its attempts cleared its due marker and left them); forgets channels
   * whose lists are empty. Answers the channels it scheduled.
   */
  async resume(): Promise<string[]> {
    const scheduled: string[] = [];
    for (const channel of await this.opts.redis.smembers(this.pendingKey())) {
      if (
        Number(
          await FORGET_IF_EMPTY.run(this.opts.redis, [this.items(channel), this.pendingKey()], channel),
        ) > 0
      )
        continue;
      await this.paced.schedule(channel);
      scheduled.push(channel);
    }
    return scheduled;
  }

  /** Whether an item with this id was ever queued (it may be posted already). */
  async queued(id: string): Promise<boolean> {
    return (await this.opts.redis.exists(this.onceKey(id))) > 0;
  }

  /**
   * Runs `work` in `channel`'s posting slot, the one its drains use, across every replica: nothing
   * from the outbox is posted there while it runs, nor for an interval after. Answers how long
   * until the slot frees when it is taken.
   */
  async inSlot<T>(channel: string, work: () => Promise<T>): Promise<{ value: T } | { waitMs: number }> {
    return this.paced.claim(channel, work);
  }

  private singleKey(channel: string): string {
    return `${this.opts.prefix}outbox:${channel}:single`;
  }

  /**
   * The drain job: posts what waits for `channel` as one message, or defers to the pacing. When
   * Slack refuses a merged message for something in it (a bad block, too long), its items are
   * posted one at a time, so only the item at fault goes to the fallback channel.
   */
  async drain(channel: string): Promise<'posted' | 'deferred' | 'nothing' | 'refused'> {
    return this.paced.drain(channel, async (slot) => {
      const { redis } = this.opts;
      const single = Number((await redis.get(this.singleKey(channel))) ?? 0) > 0;
      const raw = await redis.lrange(this.items(channel), 0, single ? 0 : BATCH - 1);
      if (raw.length === 0) {
        await FORGET_IF_EMPTY.run(redis, [this.items(channel), this.pendingKey()], channel);
        return 'nothing';
      }
      const taken = fit(raw.map((r) => JSON.parse(r) as Item));
      const { runId: _run, ...message } = merge(taken);
      let outcome: 'posted' | 'refused' = 'posted';
      try {
        await this.opts.client.chat.postMessage({ channel, ...message });
      } catch (e) {
        const failure = slackFailureOf(e);
        if (failure === undefined || SLACK_PASSING_FAILURES.has(failure.code)) {
          // Still waiting in Redis: try again after the pacing interval (BullMQ delays, no sleep).
          const after = (failure?.retryAfterSeconds ?? 0) * 1000;
          await this.paced.schedule(channel, Math.max(this.intervalMs, after));
          return 'deferred';
        }
        if (taken.length > 1 && !channelWide(failure.code)) {
          // One item spoils the batch: post these one by one, and only the bad one is refused.
          await redis.set(this.singleKey(channel), taken.length, 'PX', SINGLE_MS);
          await this.paced.schedule(channel, this.intervalMs);
          return 'deferred';
        }
        outcome = 'refused';
        for (const { runId } of taken)
          if (runId) await this.opts.onRefused?.({ runId, channel, code: failure.code });
        await this.refused(channel, failure.code, message);
      }
      await this.removePosted(channel, slot, raw.slice(0, taken.length));
      if ((await redis.llen(this.items(channel))) > 0) await this.paced.schedule(channel, this.intervalMs);
      else await FORGET_IF_EMPTY.run(redis, [this.items(channel), this.pendingKey()], channel);
      return outcome;
    });
  }

  private async removePosted(channel: string, slot: Slot, raw: string[]): Promise<void> {
    const removed = Number(
      await REMOVE_POSTED.run(
        this.opts.redis,
        [slot.lock, this.items(channel), this.singleKey(channel)],
        slot.token,
        ...raw,
      ),
    );
    if (removed < 0) this.opts.logger?.warn({ channel }, 'A drain outlived its slot; its items stay queued');
  }

  /** A channel that will not take the message (archived, bot removed): say so where someone reads. */
  private async refused(channel: string, code: string, message: Item): Promise<void> {
    const fallback = this.opts.fallbackChannel;
    this.opts.logger?.error({ channel, slackError: code }, 'Slack refused a queued message for good');
    if (!fallback || fallback === channel) return;
    await this.post(fallback, {
      text: `Could not post in <#${channel}> (${code}): ${message.text}`,
      blocks: [
        context(`⚠ Could not post this in <#${channel}> (\`${code}\`), so it is here.`),
        ...message.blocks.slice(0, MAX_BLOCKS - 1),
      ],
    });
  }
}

/**
 * As many items, oldest first, as fit in one message's blocks less one, kept for the note should the
 * message go to the fallback channel (always at least one item): all in the
 * first one's thread (or all outside any), none repeating a block id (a button's message is edited
 * by its block).
 */
function fit(items: Item[]): Item[] {
  const taken: Item[] = [];
  const ids = new Set<string>();
  let blocks = 0;
  for (const item of items) {
    const cost = item.blocks.length + (taken.length > 0 ? 1 : 0);
    const itemIds = item.blocks.map((b) => b.block_id).filter((id) => id !== undefined);
    const apart = taken.length > 0 && item.thread_ts !== taken[0]!.thread_ts;
    if (taken.length > 0 && (apart || blocks + cost > MAX_BLOCKS - 1 || itemIds.some((id) => ids.has(id))))
      break;
    taken.push(item);
    blocks += cost;
    for (const id of itemIds) ids.add(id);
  }
  return taken;
}

function merge(items: Item[]): Item {
  if (items.length === 1) return items[0]!;
  const thread = items[0]!.thread_ts;
  return {
    text: items.map((i) => i.text).join('\n'),
    blocks: items.flatMap((item, i) => (i === 0 ? item.blocks : [divider, ...item.blocks])),
    ...(thread ? { thread_ts: thread } : {}),
  };
}
