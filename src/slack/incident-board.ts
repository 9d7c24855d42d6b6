import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import type { Run } from '../domain/run';
import { PacedDrain } from './paced-drain';
import { bookEditSlot } from './run-progress';
import { SLACK_PASSING_FAILURES, slackFailureOf } from './slack-errors';
import { incidentBoardView } from './views';

export interface IncidentBoardOptions {
  redis: Redis;
  /** Key prefix, e.g. "rotator:". */
  prefix: string;
  /**
   * The queued client (rejectRateLimitedCalls, no retries): a 429 or an outage defers the render
   * job instead of holding a notifications worker through it.
   */
  client: WebClient;
  /** Every run of an incident, oldest first (RunStore.incidentRuns). */
  runs: (ref: string) => Promise<Run[]>;
  /** Adds one render job for `ref`, run in `delayMs` (the notifications queue). */
  enqueue: (ref: string, delayMs: number) => Promise<void>;
  /** At most one post or edit per incident per interval (default 2 s). */
  intervalMs?: number;
  /** chat.update's workspace-wide spacing, shared with run progress messages (default 1.2 s). */
  editSpacingMs?: number;
  now?: () => Date;
  logger?: PinoLogger;
}

/** How long an incident message's address is kept (refreshed by every render). */
const KEEP_SECONDS = 7 * 86_400;

/**
 * The incident message: one Slack message per incident in its channel, a row per credential,
 * posted by the first render and edited in place after that. Runs report through `touch` (cheap,
 * never waits on pacing); a render job reads the newest state of every run of the incident, so
 * any number of reports between two renders cost one edit, at most one per interval per incident,
 * whichever replica renders.
 */
export class IncidentBoard {
  private readonly now: () => Date;
  private readonly paced: PacedDrain;
  private readonly editSpacingMs: number;

  constructor(private readonly opts: IncidentBoardOptions) {
    this.now = opts.now ?? (() => new Date());
    this.editSpacingMs = opts.editSpacingMs ?? 1_200;
    this.paced = new PacedDrain({
      redis: opts.redis,
      enqueue: opts.enqueue,
      intervalMs: opts.intervalMs ?? 2_000,
      keyOf: (ref) => this.key(ref),
    });
  }

  private key(ref: string): string {
    return `${this.opts.prefix}incident-board:${ref.toUpperCase()}`;
  }

  /** A run of `ref` changed: makes sure a render will follow. */
  async touch(ref: string): Promise<void> {
    await this.paced.schedule(ref.toUpperCase());
  }

  /** Where the incident message is, once posted. */
  async message(ref: string): Promise<{ channel: string; ts: string } | undefined> {
    const h = await this.opts.redis.hgetall(this.key(ref));
    return h.channel && h.ts ? { channel: h.channel, ts: h.ts } : undefined;
  }

  /** The render job: posts or edits the incident message with the newest state, or defers to the pacing. */
  async render(ref: string): Promise<'rendered' | 'deferred' | 'nothing'> {
    return this.paced.drain(ref.toUpperCase(), async () => {
      const runs = await this.opts.runs(ref);
      const channel = runs.find((r) => r.incident)?.incident?.channel;
      if (!channel) return 'nothing';
      try {
        const wait = await this.show(ref, channel, runs);
        if (wait > 0) return this.later(ref, wait);
      } catch (e) {
        const failure = slackFailureOf(e);
        if (failure !== undefined && !SLACK_PASSING_FAILURES.has(failure.code)) throw e;
        // Waited out by a delayed job (Retry-After), not by a worker asleep in its slot.
        return this.later(ref, Math.max(1_000, (failure?.retryAfterSeconds ?? 0) * 1000));
      }
      return 'rendered';
    });
  }

  private async later(ref: string, delayMs: number): Promise<'deferred'> {
    await this.paced.schedule(ref.toUpperCase(), delayMs);
    return 'deferred';
  }

  /** Posts or edits the message; answers how long until the shared edit slot frees, 0 when done. */
  private async show(ref: string, channel: string, runs: Run[]): Promise<number> {
    const view = incidentBoardView(ref, runs, this.now().toISOString());
    const posted = await this.message(ref);
    if (posted) {
      const wait = await bookEditSlot(this.opts.redis, this.opts.prefix, this.key(ref), this.editSpacingMs);
      if (wait > 0) return wait;
      try {
        await this.opts.client.chat.update({ ...posted, text: view.text, blocks: view.blocks });
        await this.opts.redis.expire(this.key(ref), KEEP_SECONDS);
        return 0;
      } catch (e) {
        // Deleted by someone: post it again rather than leave the incident without its board.
        if (slackFailureOf(e)?.code !== 'message_not_found') throw e;
        this.opts.logger?.warn({ ref }, 'incident message gone; posting it again');
      }
    }
    const res = await this.opts.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
    if (res.ts)
      await this.opts.redis
        .multi()
        .hset(this.key(ref), { channel: res.channel ?? channel, ts: res.ts })
        .expire(this.key(ref), KEEP_SECONDS)
        .exec();
    return 0;
  }
}
