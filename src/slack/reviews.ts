import type { Redis } from 'ioredis';
import { isRotatorError, RotatorError } from '../domain/errors';
import { RedisScript } from '../queue/redis-script';

export interface Review {
  by: string;
  at: string;
}

/** Kept as long as the runs themselves: the review belongs to the incident's history. */
const REVIEW_TTL_SECONDS = 400 * 86_400;

const RELEASE = new RedisScript(
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
  1,
);

/**
 * The after-the-fact review of an emergency run (an expedited change): recorded once, by whoever
 * clicks first, shared by every web replica.
 */
export class ReviewStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = 'rotator:',
    private readonly now: () => Date = () => new Date(),
  ) {}

  private key(runId: string): string {
    return `${this.prefix}emergency-review:${runId}`;
  }

  /** Atomic (SET NX): the first click records the review, later ones get the one recorded. */
  async claim(
    runId: string,
    by: string,
  ): Promise<{ ok: true; review: Review } | { ok: false; review: Review }> {
    const review: Review = { by, at: this.now().toISOString() };
    try {
      const set = await this.redis.set(
        this.key(runId),
        JSON.stringify(review),
        'EX',
        REVIEW_TTL_SECONDS,
        'NX',
      );
      if (set === 'OK') return { ok: true, review };
      const existing = await this.redis.get(this.key(runId));
      return { ok: false, review: existing ? (JSON.parse(existing) as Review) : review };
    } catch (e) {
      if (isRotatorError(e)) throw e;
      throw new RotatorError('queue_unavailable', 'Redis is unavailable: the review was not recorded', {
        transient: true,
      });
    }
  }

  /** Undoes a review whose audit record could not be written (audit is fail-closed). */
  async release(runId: string, review: Review): Promise<void> {
    await RELEASE.run(this.redis, [this.key(runId)], JSON.stringify(review));
  }

  async get(runId: string): Promise<Review | undefined> {
    const text = await this.redis.get(this.key(runId));
    return text ? (JSON.parse(text) as Review) : undefined;
  }
}
