/**
 * The break-glass CLI's work once its arguments are known to be sane: asks a worker through the
 * `requests` queue to plan or start the rotation, and follows the run. Loaded by `rotate.ts` only
 * after the name was checked, so a typo is answered without loading BullMQ.
 */
import { userInfo } from 'node:os';
import type { Job } from 'bullmq';
import IORedis, { type RedisOptions } from 'ioredis';
import type { Plan } from '../domain/plan';
import { describeAge } from '../domain/policy';
import type { Run } from '../domain/run';
import { createRedis } from '../queue/connection';
import { REQUESTS_QUEUE, type RequestJobData, type RequestResult } from '../queue/names';
import { RunStore, runChangedChannel } from '../queue/run-store';
import { Queue, QueueEvents } from './bullmq-classes';

export interface CliOptions {
  redisUrl: string;
  prefix: string;
  /** How long to wait for a worker to take the request (default 30 s). */
  waitMs?: number;
  /**
   * Called with the exit code once the outcome is printed. The process's own main exits there:
   * closing BullMQ's queue and events reader cleanly took up to 20 ms more, for nothing a process
   * about to end needs. Without it (in-process callers), everything is closed before returning.
   */
  exit?: (code: number) => void;
}

function printPlan(plan: Plan): void {
  console.log(`Plan for ${plan.credential} (${plan.type}, ${plan.risk} risk, issuer ${plan.issuer})`);
  console.log(`  age: ${describeAge(plan.age)}`);
  for (const c of plan.consumers) {
    const found = c.foundInCluster === false ? ' — NOT FOUND in cluster' : '';
    console.log(`  consumer ${c.name}: ${c.action}${c.where ? ` (${c.where})` : ''}${found}`);
  }
  for (const u of plan.undeclared) console.log(`  undeclared consumer in cluster: ${u}`);
  for (const d of plan.drift) console.log(`  drift: ${d}`);
  if (plan.channelProblem) console.log(`  summary channel: ${plan.channelProblem}`);
  for (const n of plan.notices) console.log(`  notice: ${n}`);
  plan.steps.forEach((s, i) => console.log(`  ${i + 1}. ${s.title}: ${s.touches.join('; ')}`));
}

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

async function follow(runs: RunStore, runId: string, changes: Announcements): Promise<Run> {
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

/**
 * Ready as soon as the socket is: without ioredis' client info (a package.json read, then two
 * CLIENT SETINFO) and its INFO ready check, each a wait before the first command. A Redis still
 * loading its data answers LOADING, which the CLI reports like a Redis that is down.
 */
const CLI_CONNECTION: RedisOptions = { disableClientInfo: true, enableReadyCheck: false };

/** Sends the request for a checked credential name; returns the exit code. */
export async function requestRotation(name: string, dryRun: boolean, opts: CliOptions): Promise<number> {
  const { redisUrl: url, prefix } = opts;
  const waitMs = opts.waitMs ?? 30_000;
  // Fail within seconds when Redis is not there: this is the tool people reach for when things are down.
  const connection = createRedis(url, 'request', CLI_CONNECTION);
  const eventsConnection = new IORedis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => (times > 3 ? null : 300),
    ...CLI_CONNECTION,
  });
  // Connected while the request is under way; it only listens, once the run is known.
  const subscriber = dryRun ? undefined : createRedis(url, 'request', CLI_CONNECTION);
  for (const c of [connection, eventsConnection, subscriber]) c?.on('error', () => undefined);
  // The workers check the Redis version; a CLI that did too would spend a round trip per connection.
  const queue = new Queue<RequestJobData>(REQUESTS_QUEUE, { connection, prefix, skipVersionCheck: true });
  queue.on('error', () => undefined);
  let events: QueueEvents | undefined;
  try {
    // The answer is read from the events stream after the newest entry present before the request
    // was added. Reading from "now" (QueueEvents' default) lost answers that came before its first
    // read, and the CLI then waited out its deadline although the worker had answered.
    const since = await connection
      .xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1)
      .then((newest) => newest[0]?.[0] ?? '0-0')
      .catch(() => undefined);
    if (since === undefined) {
      console.error(`Redis at ${url} does not answer: nothing was started`);
      return 3;
    }
    events = new QueueEvents(REQUESTS_QUEUE, {
      connection: eventsConnection,
      prefix,
      lastEventId: since,
      skipVersionCheck: true,
    });
    // Connection trouble is reported once, below, not as a stack trace per reconnect.
    events.on('error', () => undefined);
    const user = userInfo().username;
    const job = await queue.add(
      dryRun ? 'plan' : 'rotate',
      { kind: dryRun ? 'plan' : 'rotate', credential: name, user, deadline: Date.now() + waitMs },
      { removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } },
    );
    let result: RequestResult;
    try {
      result = (await job.waitUntilFinished(events, waitMs)) as RequestResult;
    } catch (e) {
      const msg = (e as Error).message;
      if (!/timed out/i.test(msg)) {
        console.error(msg.replace(/^[a-z_]+: /, ''));
        return 2;
      }
      const late = await withdraw(queue, job);
      if (!late) {
        console.error(
          `no worker answered within ${Math.round(waitMs / 1000)}s: nothing was started. Is a worker running on ${url} with QUEUE_PREFIX=${prefix}?`,
        );
        return 3;
      }
      result = late;
    }
    if (result.kind === 'plan') {
      printPlan(result.plan);
      return 0;
    }
    console.log(`Rotation of ${name} started as run ${result.runId} (audit identity cli:${user})`);
    const changes = new Announcements(subscriber!, runChangedChannel(prefix, result.runId));
    const run = await follow(new RunStore(connection, prefix), result.runId, changes);
    console.log(`Outcome: ${run.outcome}${run.failure ? ` — ${run.failure.message}` : ''}`);
    const code = run.outcome === 'succeeded' ? 0 : 1;
    opts.exit?.(code);
    return code;
  } finally {
    // Sockets first: BullMQ's goodbyes (QUIT, ending the blocked read) would only delay the exit.
    connection.disconnect();
    eventsConnection.disconnect();
    subscriber?.disconnect();
    await Promise.allSettled([events?.close(), queue.close()]);
  }
}
