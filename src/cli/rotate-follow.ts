/**
 * The break-glass CLI's work once the request is answered, on ioredis and the project's RunStore:
 * following the run a worker started, or withdrawing a request no worker answered. Loaded (from a
 * code cache when compiled) only then, so that loading it never delays the request itself.
 */
import type { Job } from 'bullmq';
import type IORedis from 'ioredis';
import type { RedisOptions } from 'ioredis';
import type { Run } from '../domain/run';
import { createRedis } from '../queue/connection';
import { REQUESTS_QUEUE, type RequestJobData, type RequestResult } from '../queue/names';
import { RunStore, runChangedChannel } from '../queue/run-store';
import type { Queue } from './bullmq-queue';

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

/**
 * Ready as soon as the socket is: without ioredis' client info (a package.json read, then two
 * CLIENT SETINFO) and its INFO ready check, each a wait before the first command. A Redis still
 * loading its data answers LOADING, which the CLI reports like a Redis that is down.
 */
const CLI_CONNECTION: RedisOptions = { disableClientInfo: true, enableReadyCheck: false };

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

/** Gives up on a request: removes it if no worker took it, else returns what the worker answered. */
export async function withdraw(
  queue: Queue<RequestJobData>,
  job: Job<RequestJobData>,
): Promise<RequestResult | undefined> {
  // A finished request is answered, never removed: `remove` would take a completed one too, and the
  // rotation it started would be reported as never started.
  const answer = async () =>
    (await job.getState().catch(() => 'unknown')) === 'completed'
      ? (((await queue.getJob(job.id!).catch(() => undefined))?.returnvalue as RequestResult | undefined) ??
        undefined)
      : undefined;
  const early = await answer();
  if (early) return early;
  try {
    await job.remove();
    return undefined;
  } catch {
    // A worker holds it now (or finished it): its answer, if any, is what counts.
    return answer();
  }
}

/** `withdraw` for the request with id `jobId`, on a connection of its own. */
export async function withdrawRequest(
  url: string,
  prefix: string,
  jobId: string,
): Promise<RequestResult | undefined> {
  const connection = createRedis(url, 'request', CLI_CONNECTION);
  connection.on('error', () => undefined);
  // Loaded here: following a run (this file's other use) needs no BullMQ.
  const { Queue } = await import('./bullmq-queue');
  // The workers check the Redis version; a CLI that did too would spend a round trip for nothing.
  const queue = new Queue<RequestJobData>(REQUESTS_QUEUE, { connection, prefix, skipVersionCheck: true });
  queue.on('error', () => undefined);
  try {
    const job = await queue.getJob(jobId).catch(() => undefined);
    return job ? await withdraw(queue, job) : undefined;
  } finally {
    connection.disconnect();
    await queue.close().catch(() => undefined);
  }
}
