import { RotatorError } from '../domain/errors';

/**
 * The web role's slow work after an ack (store, cluster and issuer reads, rendering a plan), a few
 * at a time in arrival order. Unbounded, a burst of fifty `/rotate` commands ran fifty plans at once
 * and kept the event loop busy for seconds, so new requests waited to be read and Slack's 3-second
 * ack deadline passed; bounded, the loop stays free to read and ack them.
 */
export class WorkPool {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly concurrency: number,
    /** Beyond this many waiting, new work is refused at once (the caller tells the user). */
    private readonly maxWaiting = 500,
  ) {}

  /** Runs `fn` when a lane is free; rejects with `busy` (transient) when too much is waiting. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.maxWaiting)
        throw new RotatorError('busy', 'too many requests are waiting; try again in a minute', {
          transient: true,
        });
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.running += 1;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Work waiting for a lane now. */
  get queued(): number {
    return this.waiting.length;
  }
}
