import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import { summaryItemId } from '../adapters/chat/slack-notifier';
import type { Run } from '../domain/run';
import { RedisScript } from '../queue/redis-script';
import type { ChannelOutbox } from './channel-outbox';
import { PacedDrain } from './paced-drain';
import { SLACK_PASSING_FAILURES, slackFailureOf, type SlackFailure } from './slack-errors';
import { progressView } from './views';

export interface RunProgressOptions {
  redis: Redis;
  /** Key prefix, e.g. "rotator:". */
  prefix: string;
  /** A client that answers 429 at once (rejectRateLimitedCalls), so a drain defers instead of waiting. */
  client: WebClient;
  /** The newest saved state of a run (RunStore.get). */
  runs: (runId: string) => Promise<Run | undefined>;
  /** Adds one render job for `runId`, run in `delayMs` (the notifications queue). */
  enqueue: (runId: string, delayMs: number) => Promise<void>;
  /** The channels' posting slots: a progress message is posted in its channel's slot. */
  outbox: Pick<ChannelOutbox, 'inSlot' | 'queued'>;
  /** At most one edit per run per interval (default 2 s). */
  intervalMs?: number;
  /** chat.update is limited per workspace (Tier 3, about 50 a minute): one edit per this, shared. */
  editSpacingMs?: number;
  logger?: PinoLogger;
}

/** How long a run's message address is kept. */
const KEEP_SECONDS = 7 * 86_400;

// Books the workspace's next chat.update slot for a run, in Redis time so every replica agrees:
// 0 when the run may edit now (a slot booked earlier has come, or the next one is free), else how
// long until its booked slot; the booking is kept in the run's hash for the deferred drain.
const BOOK_EDIT = new RedisScript(
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local booked = tonumber(redis.call('HGET', KEYS[2], 'slot') or '-1')
if booked >= 0 then
  if booked <= now + 20 then redis.call('HDEL', KEYS[2], 'slot') return 0 end
  return booked - now
end
local spacing = tonumber(ARGV[1])
local at = tonumber(redis.call('GET', KEYS[1]) or '0')
if at < now then at = now end
redis.call('SET', KEYS[1], at + spacing, 'PX', at + spacing - now + 1000)
if at <= now + 20 then return 0 end
redis.call('HSET', KEYS[2], 'slot', at)
return at - now
`,
  2,
);

/**
 * Books the workspace's next chat.update slot, shared by every message the bot edits (run progress,
 * incident boards): 0 to edit now, else how long until the slot booked for `holder` (a hash that
 * keeps the booking for the deferred job).
 */
export async function bookEditSlot(
  redis: Redis,
  prefix: string,
  holder: string,
  spacingMs: number,
): Promise<number> {
  return Number(await BOOK_EDIT.run(redis, [`${prefix}slack:edit-slot`, holder], spacingMs));
}

/** Slack down or limiting may pass; a channel the bot cannot post in, or a deleted message, will not. */
const passes = (f: SlackFailure | undefined) => f === undefined || SLACK_PASSING_FAILURES.has(f.code);

export type RenderOutcome = 'posted' | 'edited' | 'deferred' | 'nothing' | 'refused';

/**
 * A run's progress message: one message in the run's thread, posted by the first render and
 * edited in place after that. The engine reports through `touch` (cheap, never waits on Slack); a
 * render job reads the run's newest saved state, so any number of reports between two renders cost
 * one edit, the newest state wins, and no worker running a rotation ever waits on Slack's pace.
 * The first post takes its channel's posting slot, the one the channel's outbox posts summaries
 * in, and is skipped once the run's summary is queued: the thread never shows progress under it.
 */
export class RunProgress {
  private readonly paced: PacedDrain;
  private readonly editSpacingMs: number;

  constructor(private readonly opts: RunProgressOptions) {
    this.editSpacingMs = opts.editSpacingMs ?? 1_200;
    this.paced = new PacedDrain({
      redis: opts.redis,
      enqueue: opts.enqueue,
      intervalMs: opts.intervalMs ?? 2_000,
      keyOf: (runId) => this.key(runId),
    });
  }

  private key(runId: string): string {
    return `${this.opts.prefix}progress:${runId}`;
  }

  /** The run's state changed: makes sure a render will follow. */
  async touch(runId: string): Promise<void> {
    await this.paced.schedule(runId);
  }

  /** Where the run's progress message is, once posted. */
  async message(runId: string): Promise<{ channel: string; ts: string } | undefined> {
    const h = await this.opts.redis.hgetall(this.key(runId));
    return h.channel && h.ts ? { channel: h.channel, ts: h.ts } : undefined;
  }

  /** The render job: posts or edits the run's message with its newest state, or defers to the pacing. */
  async render(runId: string): Promise<RenderOutcome> {
    return this.paced.drain(runId, async () => {
      const run = await this.opts.runs(runId);
      if (!run?.slack) return 'nothing';
      const posted = await this.message(runId);
      if (posted) return this.edit(run, posted);
      if (await this.opts.redis.hexists(this.key(runId), 'refused')) return 'nothing';
      return this.post(run, run.slack);
    });
  }

  private async edit(run: Run, at: { channel: string; ts: string }): Promise<RenderOutcome> {
    const wait = await bookEditSlot(this.opts.redis, this.opts.prefix, this.key(run.id), this.editSpacingMs);
    if (wait > 0) return this.later(run.id, wait);
    const view = progressView(run);
    try {
      await this.opts.client.chat.update({ ...at, text: view.text, blocks: view.blocks });
      return 'edited';
    } catch (e) {
      const failure = slackFailureOf(e);
      if (passes(failure)) return this.later(run.id, (failure?.retryAfterSeconds ?? 1) * 1000);
      // Deleted, or the channel is gone: the summary still reports the run.
      this.opts.logger?.warn({ runId: run.id, slackError: failure?.code }, 'progress message not edited');
      return 'refused';
    }
  }

  private async post(run: Run, slack: NonNullable<Run['slack']>): Promise<RenderOutcome> {
    const { channel, threadTs } = slack;
    const slot = await this.opts.outbox.inSlot(channel, async (): Promise<RenderOutcome> => {
      // Inside the channel's slot: a summary queued after this look is posted after this post.
      if (await this.opts.outbox.queued(summaryItemId(run.id, channel))) return 'nothing';
      const view = progressView(run);
      try {
        const res = await this.opts.client.chat.postMessage({
          channel,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          text: view.text,
          blocks: view.blocks,
        });
        if (res.ts) await this.remember(run.id, { channel: res.channel ?? channel, ts: res.ts });
        return 'posted';
      } catch (e) {
        const failure = slackFailureOf(e);
        if (passes(failure)) return this.later(run.id, (failure?.retryAfterSeconds ?? 1) * 1000);
        this.opts.logger?.warn({ runId: run.id, channel, slackError: failure?.code }, 'progress not posted');
        await this.remember(run.id, { refused: failure?.code ?? 'unknown' });
        return 'refused';
      }
    });
    return 'waitMs' in slot ? this.later(run.id, slot.waitMs) : slot.value;
  }

  private async remember(runId: string, fields: Record<string, string>): Promise<void> {
    const key = this.key(runId);
    await this.opts.redis.multi().hset(key, fields).expire(key, KEEP_SECONDS).exec();
  }

  private async later(runId: string, delayMs: number): Promise<'deferred'> {
    await this.paced.schedule(runId, delayMs);
    return 'deferred';
  }
}
