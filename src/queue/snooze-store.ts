import type { Redis } from 'ioredis';
import type { Snooze } from '../domain/digest';

/**
 * Owners' snoozes of reminders, one per credential (a newer snooze replaces the older), in one
 * Redis hash: bounded by the catalog's size, read in one round trip by every digest. Expired
 * snoozes are ignored by the digest and dropped here when read.
 */
export class SnoozeStore {
  private readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.key = `${prefix}:reminders:snoozes`;
  }

  async set(snooze: Snooze): Promise<void> {
    await this.redis.hset(this.key, snooze.credential, JSON.stringify(snooze));
  }

  /** Every snooze still in force at `now`, by credential. */
  async active(now: Date): Promise<Map<string, Snooze>> {
    const all = await this.redis.hgetall(this.key);
    const out = new Map<string, Snooze>();
    const expired: string[] = [];
    for (const [credential, text] of Object.entries(all)) {
      const s = JSON.parse(text) as Snooze;
      if (Date.parse(s.until) > now.getTime()) out.set(credential, s);
      else expired.push(credential);
    }
    if (expired.length) await this.redis.hdel(this.key, ...expired);
    return out;
  }
}
