import { channelDigests, mergeDigests, type DigestSettings, type Snooze } from '../domain/digest';
import type { InventoryReport } from '../domain/inventory';
import type { Clock } from '../domain/ports';
import { digestMessages, digestView, SNOOZE_DAYS, type View } from './views';

export interface RemindersDeps {
  /** The inventory (catalog, Vault, cluster): injected so its source can change without the digests. */
  loadInventory: () => Promise<InventoryReport>;
  snoozes: {
    set(snooze: Snooze): Promise<void>;
    active(now: Date): Promise<Map<string, Snooze>>;
  };
  settings: DigestSettings;
  clock: Clock;
}

/**
 * The weekly digests and `/rotate due`, from one builder: the scheduled job posts `messages()`,
 * `/rotate due` shows `forChannel()` (the same digest) or `everything()`, Snooze records here.
 */
export class Reminders {
  constructor(private readonly deps: RemindersDeps) {}

  private async inputs() {
    const now = this.deps.clock.now();
    const [report, snoozes] = await Promise.all([this.deps.loadInventory(), this.deps.snoozes.active(now)]);
    return { report, snoozes, now };
  }

  /** One digest per channel with something due, unreadable or drifting. */
  async messages(tick?: string): Promise<Array<{ channel: string; view: View }>> {
    const { report, snoozes, now } = await this.inputs();
    return digestMessages(report, snoozes, now, this.deps.settings, tick);
  }

  /**
   * `/rotate due [page]` in `channel`: that channel's digest, even when nothing is due. The catalog
   * and SECURITY_CHANNEL may name a channel by id or by name (the default 'security-notifications'):
   * the digest is the one keyed by the command's channel id or by its `name` (channel_name).
   */
  async forChannel(channel: string, page?: number, name?: string): Promise<View> {
    const { report, snoozes, now } = await this.inputs();
    const names = new Set([channel, ...(name ? [name, `#${name}`] : [])]);
    const digest = channelDigests(report, snoozes, now, this.deps.settings).find((d) => names.has(d.channel));
    return digestView(digest ?? { channel, due: [], snoozed: [], unknown: [], drift: [] }, {
      ...(page ? { page } : {}),
    });
  }

  /** `/rotate due all [page]`: every channel's rows in one list, most urgent first. */
  async everything(page?: number): Promise<View> {
    const { report, snoozes, now } = await this.inputs();
    const merged = mergeDigests(channelDigests(report, snoozes, now, this.deps.settings));
    return digestView(merged, { all: true, ...(page ? { page } : {}) });
  }

  /** An owner's Snooze: the credential leaves the due list for SNOOZE_DAYS (the caller audits). */
  async snooze(credential: string, by: string): Promise<Snooze> {
    const now = this.deps.clock.now();
    const until = new Date(now.getTime() + SNOOZE_DAYS * 86_400_000).toISOString();
    const snooze = { credential, by, at: now.toISOString(), until };
    await this.deps.snoozes.set(snooze);
    return snooze;
  }
}
