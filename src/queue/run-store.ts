import type { Redis } from 'ioredis';
import type { ScopeAssessment } from '../domain/incident';
import type { Run } from '../domain/run';

const RUN_TTL_SECONDS = 400 * 86_400; // history outlives the longest rotation policy
const LOCK_READ_BATCH = 1_000;

// Compare-and-set on the lock owner: only the holder may refresh or release it.
const REFRESH = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

/**
 * Runs and per-credential locks in Redis. A run record holds ids, versions and timestamps only:
 * never a credential value (DESIGN, step engine rules).
 */
export class RunStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private runKey = (id: string) => `${this.prefix}:run:${id}`;
  private historyKey = (credential: string) => `${this.prefix}:runs:${credential}`;
  private lockKey = (credential: string) => `${this.prefix}:lock:${credential}`;
  private takeoverKey = (credential: string) => `${this.prefix}:takeover:${credential}`;
  private scopeKey = (runId: string) => `${this.prefix}:scope:${runId}`;
  private incidentKey = (ref: string) => `${this.prefix}:incident:${ref.toUpperCase()}`;

  async save(run: Run): Promise<void> {
    await this.redis
      .multi()
      .set(this.runKey(run.id), JSON.stringify(run), 'EX', RUN_TTL_SECONDS)
      .zadd(this.historyKey(run.credential), Date.parse(run.createdAt), run.id)
      .exec();
  }

  async get(id: string): Promise<Run | undefined> {
    const text = await this.redis.get(this.runKey(id));
    return text ? (JSON.parse(text) as Run) : undefined;
  }

  /** Most recent first. */
  async history(credential: string, limit = 10): Promise<Run[]> {
    const ids = await this.redis.zrevrange(this.historyKey(credential), 0, limit - 1);
    const runs = await Promise.all(ids.map((id) => this.get(id)));
    return runs.filter((r): r is Run => r !== undefined);
  }

  /** Takes the credential's lock for `runId`; returns the holder's run id when someone else has it. */
  async acquire(
    credential: string,
    runId: string,
    ttlMs: number,
  ): Promise<{ ok: true } | { ok: false; holder: string }> {
    const got = await this.redis.set(this.lockKey(credential), runId, 'PX', ttlMs, 'NX');
    if (got === 'OK') return { ok: true };
    const holder = await this.redis.get(this.lockKey(credential));
    if (holder === runId) {
      await this.refresh(credential, runId, ttlMs);
      return { ok: true };
    }
    if (holder === null) return this.acquire(credential, runId, ttlMs);
    return { ok: false, holder };
  }

  /** Extends the lock if `runId` still owns it; false when it does not. */
  async refresh(credential: string, runId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.eval(REFRESH, 1, this.lockKey(credential), runId, String(ttlMs))) === 1;
  }

  async release(credential: string, runId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.lockKey(credential), runId);
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
    const ids = await this.redis.zrange(this.incidentKey(ref), 0, -1);
    const runs = await Promise.all(ids.map((id) => this.get(id)));
    return runs.filter((r): r is Run => r !== undefined);
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
    await this.redis.eval(RELEASE, 1, this.takeoverKey(credential), runId);
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
