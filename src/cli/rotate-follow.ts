/**
 * The break-glass CLI's follow of the run a worker started, on ioredis and the project's RunStore.
 * Loaded (from a code cache when compiled) once the run exists, so that loading it never delays
 * the request itself.
 */
import type IORedis from 'ioredis';
import type { Run } from '../domain/run';
import { createRedis } from '../queue/connection';
import { RunStore, runChangedChannel } from '../queue/run-store';
import { CLI_CONNECTION } from './cli-connection';

/**
 * With no change announced, the CLI still looks this often: a lost announcement (a Redis that
 * dropped the subscriber) only slows the follow down, it never stops it.
 */
const FOLLOW_MS = 1_000;

const ICON: Record<string, string> = {
  done: '✓',
  failed: '✗',
  skipped: '–',
  running: '…',
  waiting: '…',
  pending: ' ',
};

/**
 * Wakes the follow when the worker announces a change of the run (every save does, RunStore), so
 * the outcome is printed as soon as it is saved: polling every 50 ms printed it 25 ms late on
 * average, for an HGETALL every look.
 */
class Announcements {
  private told = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly subscriber: IORedis,
    private readonly channel: string,
  ) {
    subscriber.on('message', (ch: string) => {
      if (ch !== channel) return;
      this.told = true;
      this.wake?.();
    });
  }

  /** Subscribed before the first look, so no change after that look goes unannounced. */
  async start(): Promise<void> {
    await this.subscriber.subscribe(this.channel).catch(() => undefined);
  }

  /** Resolves at the next announcement (at once if one came since the last call), or after `ms`. */
  next(ms: number): Promise<void> {
    if (this.told) {
      this.told = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        this.told = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }
}

/** Prints each step as it changes until the run is finished; returns the finished run. */
export async function followRun(url: string, prefix: string, runId: string): Promise<Run> {
  const connection = createRedis(url, 'request', CLI_CONNECTION);
  const subscriber = createRedis(url, 'request', CLI_CONNECTION);
  for (const c of [connection, subscriber]) c.on('error', () => undefined);
  try {
    const changes = new Announcements(subscriber, runChangedChannel(prefix, runId));
    const runs = new RunStore(connection, prefix);
    const seen = new Map<string, string>();
    await changes.start();
    for (;;) {
      const run = await runs.get(runId);
      if (run) {
        for (const s of run.steps) {
          const line = `${ICON[s.status] ?? '?'} ${s.name}${s.detail ? `: ${s.detail}` : ''}`;
          if (seen.get(s.name) !== line && s.status !== 'pending') {
            seen.set(s.name, line);
            console.log(`  ${line}`);
          }
        }
        if (run.status === 'finished') return run;
      }
      await changes.next(FOLLOW_MS);
    }
  } finally {
    connection.disconnect();
    subscriber.disconnect();
  }
}
