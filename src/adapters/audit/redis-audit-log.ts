import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RotatorError } from '../../domain/errors';
import type { AuditEntry, AuditLog } from '../../domain/ports';

const FIELDS = ['runId', 'credential', 'action', 'step', 'outcome', 'identity', 'detail', 'time'] as const;

/**
 * Audit trail: a Redis stream (queryable, shared by every replica) plus a pino audit logger
 * (shipped with the process logs). Fail-closed: a record that did not reach the stream rejects.
 */
export class RedisAuditLog implements AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly streamKey: string,
    private readonly logger: Logger,
    private readonly now: () => Date = () => new Date(),
    private readonly maxLen = 100_000,
  ) {}

  /** Appends one record; rejects with `audit_unavailable` when Redis did not take it. */
  async record(entry: AuditEntry): Promise<void> {
    const full = { ...entry, time: entry.time ?? this.now().toISOString() };
    const args: string[] = [];
    for (const f of FIELDS) {
      const v = full[f];
      if (v !== undefined) args.push(f, String(v));
    }
    try {
      await this.redis.xadd(this.streamKey, 'MAXLEN', '~', String(this.maxLen), '*', ...args);
    } catch (e) {
      throw new RotatorError(
        'audit_unavailable',
        `audit record could not be written (${(e as Error).message})`,
        {
          transient: true,
        },
      );
    }
    this.logger.info({ audit: full }, `audit ${full.action} ${full.credential}`);
  }

  /** Most recent first, filtered. */
  async recent(filter: {
    credential?: string;
    runId?: string;
    limit?: number;
  }): Promise<Array<AuditEntry & { time: string }>> {
    const limit = filter.limit ?? 50;
    const out: Array<AuditEntry & { time: string }> = [];
    let end = '+';
    while (out.length < limit) {
      const batch = await this.redis.xrevrange(this.streamKey, end, '-', 'COUNT', 500);
      if (batch.length === 0) break;
      for (const [id, kv] of batch) {
        end = `(${id}`;
        const rec: Record<string, string> = {};
        for (let i = 0; i + 1 < kv.length; i += 2) rec[kv[i]!] = kv[i + 1]!;
        if (filter.credential && rec.credential !== filter.credential) continue;
        if (filter.runId && rec.runId !== filter.runId) continue;
        out.push(rec as unknown as AuditEntry & { time: string });
        if (out.length >= limit) break;
      }
      if (batch.length < 500) break;
    }
    return out;
  }
}
