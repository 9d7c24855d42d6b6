import { randomBytes } from 'node:crypto';
import type { WebClient } from '@slack/web-api';
import type { Redis } from 'ioredis';
import type { Logger as PinoLogger } from 'pino';
import type { Run } from '../domain/run';
import { slackFailureOf } from './slack-errors';
import { incidentBoardView } from './views';

export interface IncidentBoardOptions {
  redis: Redis;
  /** Key prefix, e.g. "rotator:". */
  prefix: string;
  client: WebClient;
  /** Every run of an incident, oldest first (RunStore.incidentRuns). */
  runs: (ref: string) => Promise<Run[]>;
  /** Adds one render job for `ref`, run in `delayMs` (the notifications queue). */
  enqueue: (ref: string, delayMs: number) => Promise<void>;
  /** At most one post or edit per incident per interval (default 2 s). */
  intervalMs?: number;
  now?: () => Date;
  logger?: PinoLogger;
}

/** Longest a render may hold the incident's edit slot (a Slack call with its retries). */
const LOCK_MS = 30_000;
/** A due marker outlives any delay it stands for; after a lost job it lapses and the next report reschedules. */
const DUE_MS = 60_000;

// A render is due: set the marker unless one is set (then a job that has not started yet will read
// the newest state anyway) and say how long the pacing wants it delayed; -1 when already due.
const SCHEDULE = `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  local wait = redis.call('PTTL', KEYS[2])
  if wait < tonumber(ARGV[2]) then wait = tonumber(ARGV[2]) end
  return wait
end
return -1
`;

// The incident's edit slot, shared by every replica: 0 and the slot is ours (no render in flight,
// none in the last interval), else how long to wait.
const CLAIM = `
local busy = redis.call('PTTL', KEYS[2])
if busy > 0 then return math.min(busy, tonumber(ARGV[2])) end
local wait = redis.call('PTTL', KEYS[1])
if wait > 0 then return wait end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return 0
`;

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * The incident message: one Slack message per incident in its channel, a row per credential,
 * posted by the first render and edited in place after that. Runs report through `touch` (cheap,
 * never waits on pacing); a render job reads the newest state of every run of the incident, so
 * any number of reports between two renders cost one edit, at most one per interval per incident,
 * whichever replica renders.
 */
export class IncidentBoard {
  private readonly intervalMs: number;
  private readonly now: () => Date;

  constructor(private readonly opts: IncidentBoardOptions) {
    this.intervalMs = opts.intervalMs ?? 2_000;
    this.now = opts.now ?? (() => new Date());
  }

  private key(ref: string, part?: 'due' | 'pace' | 'lock'): string {
    return `${this.opts.prefix}incident-board:${ref.toUpperCase()}${part ? `:${part}` : ''}`;
  }

  /** A run of `ref` changed: makes sure a render will follow. */
  async touch(ref: string): Promise<void> {
    await this.schedule(ref, 0);
  }

  /** Where the incident message is, once posted. */
  async message(ref: string): Promise<{ channel: string; ts: string } | undefined> {
    const h = await this.opts.redis.hgetall(this.key(ref));
    return h.channel && h.ts ? { channel: h.channel, ts: h.ts } : undefined;
  }

  /** The render job: posts or edits the incident message with the newest state, or defers to the pacing. */
  async render(ref: string): Promise<'rendered' | 'deferred' | 'nothing'> {
    const { redis } = this.opts;
    // From here on a report schedules another render: this one may already have read its runs.
    await redis.del(this.key(ref, 'due'));
    const token = randomBytes(8).toString('hex');
    const wait = Number(
      await redis.eval(
        CLAIM,
        2,
        this.key(ref, 'pace'),
        this.key(ref, 'lock'),
        token,
        this.intervalMs,
        LOCK_MS,
      ),
    );
    if (wait > 0) {
      await this.schedule(ref, wait);
      return 'deferred';
    }
    try {
      const runs = await this.opts.runs(ref);
      const channel = runs.find((r) => r.incident)?.incident?.channel;
      if (!channel) return 'nothing';
      await this.show(ref, channel, runs);
      return 'rendered';
    } finally {
      await redis.eval(RELEASE, 1, this.key(ref, 'lock'), token);
    }
  }

  private async show(ref: string, channel: string, runs: Run[]): Promise<void> {
    const view = incidentBoardView(ref, runs, this.now().toISOString());
    const posted = await this.message(ref);
    if (posted) {
      try {
        await this.opts.client.chat.update({ ...posted, text: view.text, blocks: view.blocks });
        return;
      } catch (e) {
        // Deleted by someone: post it again rather than leave the incident without its board.
        if (slackFailureOf(e)?.code !== 'message_not_found') throw e;
        this.opts.logger?.warn({ ref }, 'incident message gone; posting it again');
      }
    }
    const res = await this.opts.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
    if (res.ts) await this.opts.redis.hset(this.key(ref), { channel: res.channel ?? channel, ts: res.ts });
  }

  private async schedule(ref: string, minDelayMs: number): Promise<void> {
    const { redis } = this.opts;
    const due = this.key(ref, 'due');
    const delay = Number(await redis.eval(SCHEDULE, 2, due, this.key(ref, 'pace'), DUE_MS, minDelayMs));
    if (delay < 0) return;
    try {
      await this.opts.enqueue(ref.toUpperCase(), delay);
    } catch (e) {
      await redis.del(due).catch(() => undefined);
      throw e;
    }
  }
}
