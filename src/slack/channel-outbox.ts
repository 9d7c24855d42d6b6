import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { PacedDrain } from './paced-drain';
import { slackFailureOf } from './slack-errors';
import { context, divider, type SlackBlock, type View } from './views/blocks';

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
  logger?: PinoLogger;
}

interface Item {
  text: string;
  blocks: SlackBlock[];
}

/** Slack's limit of blocks in one message. */
const MAX_BLOCKS = 50;
/** Items read per drain: more than can ever fit in one message. */
const BATCH = 25;

/** Slack down or limiting may pass; a channel the bot cannot post in will not. */
const PASSES = new Set([
  'ratelimited',
  'unreachable',
  'internal_error',
  'fatal_error',
  'service_unavailable',
]);

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
    });
  }

  private items(channel: string): string {
    return `${this.opts.prefix}outbox:${channel}:items`;
  }

  /** Queues `view` for `channel`; resolves once it is safely in Redis, not once it is posted. */
  async post(channel: string, view: View): Promise<void> {
    const item: Item = { text: view.text, blocks: view.blocks };
    await this.opts.redis.rpush(this.items(channel), JSON.stringify(item));
    await this.paced.schedule(channel);
  }

  /** The drain job: posts what waits for `channel` as one message, or defers to the pacing. */
  async drain(channel: string): Promise<'posted' | 'deferred' | 'nothing' | 'refused'> {
    return this.paced.drain(channel, async () => {
      const { redis } = this.opts;
      const raw = await redis.lrange(this.items(channel), 0, BATCH - 1);
      if (raw.length === 0) return 'nothing';
      const taken = fit(raw.map((r) => JSON.parse(r) as Item));
      const message = merge(taken);
      let outcome: 'posted' | 'refused' = 'posted';
      try {
        await this.opts.client.chat.postMessage({ channel, ...message });
      } catch (e) {
        const failure = slackFailureOf(e);
        if (failure === undefined || PASSES.has(failure.code)) {
          // Still waiting in Redis: try again after the pacing interval (BullMQ delays, no sleep).
          const after = (failure?.retryAfterSeconds ?? 0) * 1000;
          await this.paced.schedule(channel, Math.max(this.intervalMs, after));
          return 'deferred';
        }
        outcome = 'refused';
        await this.refused(channel, failure.code, message);
      }
      await redis.ltrim(this.items(channel), taken.length, -1);
      if ((await redis.llen(this.items(channel))) > 0) await this.paced.schedule(channel, this.intervalMs);
      return outcome;
    });
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

/** As many items, oldest first, as fit in one message's blocks (always at least one). */
function fit(items: Item[]): Item[] {
  const taken: Item[] = [];
  const ids = new Set<string>();
  let blocks = 0;
  for (const item of items) {
    const cost = item.blocks.length + (taken.length > 0 ? 1 : 0);
    const itemIds = item.blocks.map((b) => b.block_id).filter((id) => id !== undefined);
    if (taken.length > 0 && (blocks + cost > MAX_BLOCKS || itemIds.some((id) => ids.has(id)))) break;
    taken.push(item);
    blocks += cost;
    for (const id of itemIds) ids.add(id);
  }
  return taken;
}

function merge(items: Item[]): Item {
  if (items.length === 1) return items[0]!;
  return {
    text: items.map((i) => i.text).join('\n'),
    blocks: items.flatMap((item, i) => (i === 0 ? item.blocks : [divider, ...item.blocks])),
  };
}
