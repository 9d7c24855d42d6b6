import type { Redis } from 'ioredis';

export type ManualAction = 'stored' | 'revoked';

export interface Confirmation {
  /** Who clicked, as audit identities are written (slack:U123). */
  by: string;
  at: string;
}

/** How long an unanswered click is kept: longer than any run waits for people. */
const KEEP_SECONDS = 30 * 86_400;

/**
 * A person's "Stored" / "Revoked" click for a parked manual run, kept beside the run record (not in
 * it, so the web role never races a worker saving the run). The run's step reads and clears it.
 */
export class ManualConfirmations {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private key(runId: string): string {
    return `${this.prefix}:manual:${runId}`;
  }

  async confirm(runId: string, action: ManualAction, c: Confirmation): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(runId), action, JSON.stringify(c))
      .expire(this.key(runId), KEEP_SECONDS)
      .exec();
  }

  async get(runId: string, action: ManualAction): Promise<Confirmation | undefined> {
    const raw = await this.redis.hget(this.key(runId), action);
    if (!raw) return undefined;
    try {
      const v = JSON.parse(raw) as Partial<Confirmation>;
      return typeof v.by === 'string' && typeof v.at === 'string' ? { by: v.by, at: v.at } : undefined;
    } catch {
      return undefined;
    }
  }

  async clear(runId: string, action: ManualAction): Promise<void> {
    await this.redis.hdel(this.key(runId), action);
  }
}
