import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisScript } from '../queue/redis-script';

/**
 * How long a drain's slot is held without word from its holder: the holder extends it while its
 * work runs, so a slow Slack call never lets a second drain in; a holder that died frees it after this.
 */
const LOCK_MS = 30_000;
/** A due marker outlives any delay it stands for; after a lost job it lapses and the next report reschedules. */
const DUE_MS = 60_000;

// A drain is due: set the marker unless one is set (then a job that has not started yet will see
// the newest state anyway) and say how long the pacing wants it delayed; -1 when already due.
const SCHEDULE = new RedisScript(
  `
if redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  local wait = redis.call('PTTL', KEYS[2])
  if wait < tonumber(ARGV[2]) then wait = tonumber(ARGV[2]) end
  return wait
end
return -1
`,
  2,
);

// The slot, shared by every replica: 0 and it is ours (no drain in flight, none in the last
// interval), else how long to wait.
const CLAIM = new RedisScript(
  `
local busy = redis.call('PTTL', KEYS[2])
if busy > 0 then return math.min(busy, tonumber(ARGV[2])) end
local wait = redis.call('PTTL', KEYS[1])
if wait > 0 then return wait end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[3])
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
return 0
`,
  2,
);

// The holder is still working: keep the slot, if it is still ours.
const EXTEND = new RedisScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`,
  1,
);

const RELEASE = new RedisScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
  1,
);

export interface PacedDrainOptions {
  redis: Redis;
  /** Adds one drain job for `id`, run in `delayMs` (a BullMQ queue; no worker waits the delay out). */
  enqueue: (id: string, delayMs: number) => Promise<void>;
  /** At most one drain per id per interval, across every replica. */
  intervalMs: number;
  /** The Redis key base of an id: `<base>:due`, `:pace` and `:lock` are the drain's keys. */
  keyOf: (id: string) => string;
  /** How long a slot outlives a holder that stopped extending it (default 30 s; tests shorten it). */
  lockMs?: number;
}

/** The slot a piece of work runs in: its lock key and the token that says it is still ours. */
export interface Slot {
  lock: string;
  token: string;
}

/**
 * Paced, coalesced work per id, shared by every replica through Redis: `schedule` makes sure one
 * drain job is queued (any number of reports before it runs cost one job), and `drain` runs the
 * work at most once per interval, deferring itself to the next free slot instead of sleeping.
 */
export class PacedDrain {
  constructor(private readonly opts: PacedDrainOptions) {}

  /** Makes sure a drain of `id` will run, no sooner than `minDelayMs` and the pacing allow. */
  async schedule(id: string, minDelayMs = 0): Promise<void> {
    const { redis } = this.opts;
    const base = this.opts.keyOf(id);
    const due = `${base}:due`;
    const delay = Number(await SCHEDULE.run(redis, [due, `${base}:pace`], DUE_MS, minDelayMs));
    if (delay < 0) return;
    try {
      await this.opts.enqueue(id, delay);
    } catch (e) {
      await redis.del(due).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Runs `work` if the slot is free, else re-schedules itself for when it frees. The due marker is
   * cleared first: from then on a report schedules another drain, since this one may already have
   * read its state.
   */
  async drain<T>(id: string, work: (slot: Slot) => Promise<T>): Promise<T | 'deferred'> {
    await this.opts.redis.del(`${this.opts.keyOf(id)}:due`);
    const claimed = await this.claim(id, work);
    if ('waitMs' in claimed) {
      await this.schedule(id, claimed.waitMs);
      return 'deferred';
    }
    return claimed.value;
  }

  /**
   * Runs `work` in `id`'s slot when it is free now (nobody else inside it, none in the last
   * interval), else answers how long until it frees. Leaves the due marker alone: for work that
   * shares a slot without being its drain (a run's first progress post in its channel).
   */
  async claim<T>(id: string, work: (slot: Slot) => Promise<T>): Promise<{ value: T } | { waitMs: number }> {
    const { redis } = this.opts;
    const base = this.opts.keyOf(id);
    const token = randomBytes(8).toString('hex');
    const lock = `${base}:lock`;
    const lockMs = this.opts.lockMs ?? LOCK_MS;
    const wait = Number(await CLAIM.run(redis, [`${base}:pace`, lock], token, this.opts.intervalMs, lockMs));
    if (wait > 0) return { waitMs: wait };
    // Held for as long as the work runs: a second drain must not post what this one is posting.
    const keep = setInterval(() => {
      EXTEND.run(redis, [lock], token, lockMs).catch(() => undefined);
    }, lockMs / 3);
    try {
      return { value: await work({ lock, token }) };
    } finally {
      clearInterval(keep);
      await RELEASE.run(redis, [lock], token);
    }
  }
}
