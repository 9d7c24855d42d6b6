/**
 * Spaces Slack writes per channel. Slack's chat.postMessage limit is about one message per second
 * *per channel* (short bursts tolerated), so the pacing is keyed by channel, not global. In-process
 * only: several replicas each pace themselves, and a 429 that still slips through is waited out by
 * the WebClient's retry policy (Retry-After).
 */
export class ChannelPacer {
  private readonly nextFree = new Map<string, number>();

  constructor(
    private readonly intervalMs = 1_000,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** Resolves when a write to `channel` may go out. */
  async acquire(channel: string): Promise<void> {
    const now = this.now();
    const at = Math.max(now, this.nextFree.get(channel) ?? 0);
    this.nextFree.set(channel, at + this.intervalMs);
    this.forgetIdle(now);
    if (at > now) await this.sleep(at - now);
  }

  /**
   * Books the channel's next slot without waiting for it: returns how long until it comes (0 =
   * now). For callers that re-queue rather than sleep through a long wait.
   */
  reserve(channel: string): number {
    const now = this.now();
    const at = Math.max(now, this.nextFree.get(channel) ?? 0);
    this.nextFree.set(channel, at + this.intervalMs);
    this.forgetIdle(now);
    return at - now;
  }

  private forgetIdle(now: number): void {
    if (this.nextFree.size < 1_000) return;
    for (const [channel, t] of this.nextFree) if (t < now) this.nextFree.delete(channel);
  }
}
