import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ScopeAssessment } from '../domain/incident';
import type { Run } from '../domain/run';
import { RedisScript } from './redis-script';
import { recordFields, runFromFields, type RecordFields } from './run-fields';

const RUN_TTL_SECONDS = 400 * 86_400; // history outlives the longest rotation policy
const LOCK_READ_BATCH = 1_000;

// Compare-and-set on the lock owner: only the holder may refresh or release it.
const REFRESH = new RedisScript(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`,
  1,
);
// Takes a free lock, or extends it for its holder: one round trip. Returns the holder after the call.
const ACQUIRE = new RedisScript(
  `local holder = redis.call('get', KEYS[1])
if holder == false then
  redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return ARGV[1]
end
if holder == ARGV[1] then redis.call('pexpire', KEYS[1], ARGV[2]) end
return holder`,
  1,
);
const RELEASE = new RedisScript(
  `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`,
  1,
);
// Changes an existing run record only: a record that is gone (expired, deleted) is written whole
// again rather than re-created as a fragment without its expiry. ARGV: the channel told of the
// change, how many fields to delete, their names, then field/value pairs to set.
const PATCH = new RedisScript(
  `if redis.call('exists', KEYS[1]) == 0 then return 0 end
local n = tonumber(ARGV[2])
if n > 0 then redis.call('hdel', KEYS[1], unpack(ARGV, 3, n + 2)) end
if #ARGV > n + 2 then redis.call('hset', KEYS[1], unpack(ARGV, n + 3)) end
redis.call('publish', ARGV[1], '')
return 1`,
  1,
);

/**
 * The channel a run's changes are announced on, with nothing in the message: a follower (the CLI)
 * reads the record again when told, instead of polling it.
 */
export const runChangedChannel = (prefix: string, runId: string): string => `${prefix}:run-changed:${runId}`;

/**
 * Runs and per-credential locks in Redis. A run record holds ids, versions and timestamps only:
 * never a credential value (DESIGN, step engine rules).
 *
 * A run is a hash, one field per top-level property, per step and per fact. The store remembers
 * what it last read or wrote for each Run object, so a save sends only the fields that changed
 * (nothing at all when nothing did); the history set is written when a run is first saved. Each
 * save that changed something is announced on the run's channel (runChangedChannel).
 */
export class RunStore {
  /** Per Run object, the fields as last read from or written to Redis. */
  private readonly known = new WeakMap<Run, RecordFields>();

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    for (const script of [REFRESH, ACQUIRE, RELEASE, PATCH]) script.on(redis);
  }

  private runKey = (id: string) => `${this.prefix}:run:${id}`;
  private historyKey = (credential: string) => `${this.prefix}:runs:${credential}`;
  private lockKey = (credential: string) => `${this.prefix}:lock:${credential}`;
  private takeoverKey = (credential: string) => `${this.prefix}:takeover:${credential}`;
  private scopeKey = (runId: string) => `${this.prefix}:scope:${runId}`;
  private incidentKey = (ref: string) => `${this.prefix}:incident:${ref.toUpperCase()}`;

  /**
   * Saves what changed since this Run object was last read or saved. `refreshLockMs` extends the
   * credential's lock alongside (sent together, one round trip's wait), if the run still owns it.
   */
  async save(run: Run, opts: { refreshLockMs?: number } = {}): Promise<void> {
    const fields = recordFields(run);
    const before = this.known.get(run);
    // A patch that finds no record (expired, deleted) has refreshed the lock already.
    if (!before || !(await this.patch(run, before, fields, opts.refreshLockMs))) {
      await this.writeWhole(run, fields);
      if (!before && opts.refreshLockMs !== undefined)
        await this.refresh(run.credential, run.id, opts.refreshLockMs);
    }
    this.known.set(run, fields);
  }

  /**
   * Sends the changed fields; false when the record is not there to patch. Direct calls, not a
   * pipeline: on a connection BullMQ shares, each pipeline copies every script BullMQ defined on it,
   * which cost more than the save itself (measured: bench concurrent).
   */
  private async patch(
    run: Run,
    before: RecordFields,
    after: RecordFields,
    lockMs?: number,
  ): Promise<boolean> {
    const removed: string[] = [];
    for (const f of before.keys()) if (!after.has(f)) removed.push(f);
    const changed: string[] = [];
    for (const [f, v] of after) if (before.get(f) !== v) changed.push(f, v);
    const refreshed =
      lockMs !== undefined ? this.refresh(run.credential, run.id, lockMs) : Promise.resolve(true);
    if (removed.length + changed.length === 0) {
      await refreshed;
      return true;
    }
    const [patched] = await Promise.all([
      PATCH.run(
        this.redis,
        [this.runKey(run.id)],
        runChangedChannel(this.prefix, run.id),
        removed.length,
        ...removed,
        ...changed,
      ),
      refreshed,
    ]);
    return patched === 1;
  }

  /** The whole record, replacing whatever the key held, and its place in the credential's history. */
  private async writeWhole(run: Run, fields: RecordFields): Promise<void> {
    const key = this.runKey(run.id);
    await this.redis
      .multi()
      .del(key)
      .hset(key, Object.fromEntries(fields))
      .expire(key, RUN_TTL_SECONDS)
      .zadd(this.historyKey(run.credential), Date.parse(run.createdAt), run.id)
      .publish(runChangedChannel(this.prefix, run.id), '')
      .exec();
  }

  async get(id: string): Promise<Run | undefined> {
    // One command, not a pipeline of one (see `patch`).
    let hash: Record<string, string>;
    try {
      hash = await this.redis.hgetall(this.runKey(id));
    } catch (e) {
      return this.legacy(id, e as Error);
    }
    return this.fromFields(hash);
  }

  /** The runs of `ids` that exist, in order, read in one round trip. */
  private async getMany(ids: string[]): Promise<Run[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.runKey(id));
    const runs: Run[] = [];
    for (const [i, [err, value]] of ((await pipeline.exec()) ?? []).entries()) {
      const run = err ? await this.legacy(ids[i]!, err) : this.fromFields(value as Record<string, string>);
      if (run) runs.push(run);
    }
    return runs;
  }

  private fromFields(hash: Record<string, string>): Run | undefined {
    if (Object.keys(hash).length === 0) return undefined;
    const run = runFromFields(hash);
    this.known.set(run, new Map(Object.entries(hash)));
    return run;
  }

  /** A record written whole as JSON by an earlier version: read as it is; its next save rewrites it. */
  private async legacy(id: string, err: Error): Promise<Run | undefined> {
    if (!/WRONGTYPE/.test(err.message)) throw err;
    const text = await this.redis.get(this.runKey(id));
    return text ? (JSON.parse(text) as Run) : undefined;
  }

  /** Most recent first. */
  async history(credential: string, limit = 10): Promise<Run[]> {
    return this.getMany(await this.redis.zrevrange(this.historyKey(credential), 0, limit - 1));
  }

  /** Every run of `credential` still on record, most recent first, read a page at a time. */
  async all(credential: string, page = 100): Promise<Run[]> {
    const runs: Run[] = [];
    for (let start = 0; ; start += page) {
      const ids = await this.redis.zrevrange(this.historyKey(credential), start, start + page - 1);
      runs.push(...(await this.getMany(ids)));
      if (ids.length < page) return runs;
    }
  }

  /**
   * Runs `fn` holding the credential's old-key lock: the delayed deletion of a deactivated old key,
   * an approver's reactivation and an emergency's deletion never interleave their read-then-act.
   * Waits for a holder up to `waitMs`; the lock expires on its own if its holder dies.
   */
  async withOldKeyLock<T>(
    credential: string,
    fn: () => Promise<T>,
    waitMs = 30_000,
    ttlMs = 60_000,
  ): Promise<T> {
    const key = `${this.prefix}:old-key-lock:${credential}`;
    const token = randomUUID();
    const until = Date.now() + waitMs;
    while ((await this.redis.set(key, token, 'PX', ttlMs, 'NX')) !== 'OK') {
      if (Date.now() > until) throw new Error(`the old-key lock of ${credential} is held: try again`);
      await new Promise((r) => setTimeout(r, 100));
    }
    try {
      return await fn();
    } finally {
      await RELEASE.run(this.redis, [key], token);
    }
  }

  /** Takes the credential's lock for `runId`; returns the holder's run id when someone else has it. */
  async acquire(
    credential: string,
    runId: string,
    ttlMs: number,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    const holder = (await ACQUIRE.run(
      this.redis,
      [this.lockKey(credential)],
      runId,
      String(ttlMs),
    )) as string;
    return holder === runId ? { ok: true } : { ok: false, holder };
  }

  /** Extends the lock if `runId` still owns it; false when it does not. */
  async refresh(credential: string, runId: string, ttlMs: number): Promise<boolean> {
    return (await REFRESH.run(this.redis, [this.lockKey(credential)], runId, String(ttlMs))) === 1;
  }

  async release(credential: string, runId: string): Promise<void> {
    await RELEASE.run(this.redis, [this.lockKey(credential)], runId);
  }

  /** Files an emergency run under its incident reference. */
  async addToIncident(ref: string, runId: string, at: Date): Promise<void> {
    await this.redis
      .multi()
      .zadd(this.incidentKey(ref), at.getTime(), runId)
      .expire(this.incidentKey(ref), RUN_TTL_SECONDS)
      .exec();
  }

  /** The runs of an incident, oldest first. */
  async incidentRuns(ref: string): Promise<Run[]> {
    return this.getMany(await this.redis.zrange(this.incidentKey(ref), 0, -1));
  }

  /** An emergency's scope assessment, kept beside its run (times, ids and addresses: no value). */
  async saveScope(runId: string, scope: ScopeAssessment): Promise<void> {
    await this.redis.set(this.scopeKey(runId), JSON.stringify(scope), 'EX', RUN_TTL_SECONDS);
  }

  async getScope(runId: string): Promise<ScopeAssessment | undefined> {
    const text = await this.redis.get(this.scopeKey(runId));
    return text ? (JSON.parse(text) as ScopeAssessment) : undefined;
  }

  /**
   * An emergency takes the credential over: the lock becomes the emergency run's whoever held it,
   * and the marker tells a scheduled run holding it to stop at its next step boundary.
   */
  async takeOver(credential: string, runId: string, ttlMs: number): Promise<string | undefined> {
    const [[, previous]] = (await this.redis
      .multi()
      .get(this.lockKey(credential))
      .set(this.lockKey(credential), runId, 'PX', ttlMs)
      .set(this.takeoverKey(credential), runId, 'PX', ttlMs)
      .exec()) as [[Error | null, string | null]];
    return previous ?? undefined;
  }

  /** The emergency run that took this credential over, if one did and is not finished. */
  async takenOverBy(credential: string): Promise<string | undefined> {
    return (await this.redis.get(this.takeoverKey(credential))) ?? undefined;
  }

  async endTakeover(credential: string, runId: string): Promise<void> {
    await RELEASE.run(this.redis, [this.takeoverKey(credential)], runId);
  }

  async lockHolder(credential: string): Promise<string | undefined> {
    return (await this.redis.get(this.lockKey(credential))) ?? undefined;
  }

  /**
   * The lock holders of many credentials, in order: pipelined GETs, 1,000 per round trip (GET, not
   * MGET, so a Redis Cluster may spread the keys over slots).
   */
  async lockHolders(credentials: string[]): Promise<Array<string | undefined>> {
    const holders: Array<string | undefined> = [];
    for (let i = 0; i < credentials.length; i += LOCK_READ_BATCH) {
      const pipeline = this.redis.pipeline();
      for (const c of credentials.slice(i, i + LOCK_READ_BATCH)) pipeline.get(this.lockKey(c));
      for (const [err, value] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        holders.push(typeof value === 'string' ? value : undefined);
      }
    }
    return holders;
  }
}
