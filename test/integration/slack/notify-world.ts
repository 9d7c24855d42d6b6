import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { createNotificationsProcessor } from '../../../jobs/incident-board-job';
import { createSlackDouble, type SlackDouble, type SlackDoubleOptions } from '../../../sandbox/slack';
import { createWebClient, SlackNotifier } from '../../../src/adapters/chat/slack-notifier';
import type { Run } from '../../../src/domain/run';
import {
  CHANNEL_POST_JOB,
  NOTIFICATIONS_QUEUE,
  RUN_PROGRESS_JOB,
  type NotificationJobData,
} from '../../../src/queue/names';
import { ChannelOutbox } from '../../../src/slack/channel-outbox';
import { IncidentBoard } from '../../../src/slack/incident-board';
import { RunProgress } from '../../../src/slack/run-progress';
import { recordRefusal } from '../../../src/slack/summary-refusal';
import { runViews } from '../../../src/slack/views';
import { eventually } from '../../helpers/eventually';
import { deletePrefix, testRedis } from '../../helpers/redis';

export const TOKEN = 'xoxb-notifier';

export interface NotifyWorldOptions {
  /** The outbox's pace per channel (default 200 ms; Slack's own is about 1 s). */
  channelIntervalMs?: number;
  /** How long a channel's posting slot outlives a holder that stopped extending it (default 30 s). */
  lockMs?: number;
  /** Between two edits of one run's message (default 100 ms). */
  runIntervalMs?: number;
  /** Replicas: each its own notifier and notifications worker, sharing Redis and the queue. */
  replicas?: number;
  slack?: Partial<SlackDoubleOptions>;
  /** A Slack double already running (another harness's) and its bot token; left open by close(). */
  double?: { double: SlackDouble; token: string };
}

/** One replica's side of chat: what the engine calls, and what the notifications worker runs. */
export interface NotifyReplica {
  notifier: SlackNotifier;
  outbox: ChannelOutbox;
  progress: RunProgress;
}

/**
 * Chat as the bot runs it, on real Redis and the Slack double: the notifier the engine reports to,
 * the channel outboxes and run progress messages, and a notifications worker per replica. `saved`
 * stands in for the RunStore (the engine saves a run, then reports it).
 */
export interface NotifyWorld {
  double: SlackDouble;
  redis: Redis;
  prefix: string;
  saved: Map<string, Run>;
  replicas: NotifyReplica[];
  notifier: SlackNotifier;
  progress: RunProgress;
  /** The engine's order: save the run, then report it. */
  report(run: Run, replica?: number): Promise<void>;
  /** Resolves once the notifications queue is empty: nothing more will reach Slack. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export async function notifyWorld(opts: NotifyWorldOptions = {}): Promise<NotifyWorld> {
  const token = opts.double?.token ?? TOKEN;
  const double = opts.double?.double ?? (await createSlackDouble({ botToken: TOKEN, ...opts.slack }));
  const redis = testRedis();
  const prefix = `test-${randomUUID()}`;
  const queue = new Queue<NotificationJobData>(NOTIFICATIONS_QUEUE, {
    connection: redis,
    prefix,
    // A job that throws (a refusal the run cannot take yet) is tried again soon.
    defaultJobOptions: { attempts: 5, backoff: { type: 'fixed', delay: 200 }, removeOnComplete: true },
  });
  const saved = new Map<string, Run>();
  const runs = {
    get: async (id: string) => structuredClone(saved.get(id)),
    save: async (run: Run) => void saved.set(run.id, structuredClone(run)),
  };
  const workers: Worker[] = [];
  const connections: Redis[] = [];
  const replica = (): NotifyReplica => {
    const client = createWebClient({
      token,
      slackApiUrl: double.url,
      logger: pino({ level: 'silent' }),
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    const outbox = new ChannelOutbox({
      redis,
      prefix: `${prefix}:`,
      client,
      enqueue: async (channel, delayMs) => {
        await queue.add(CHANNEL_POST_JOB, { channel }, { delay: delayMs });
      },
      fallbackChannel: 'C_SECURITY',
      intervalMs: opts.channelIntervalMs ?? 200,
      ...(opts.lockMs !== undefined ? { lockMs: opts.lockMs } : {}),
      onRefused: (refusal) => recordRefusal(runs, refusal),
    });
    const progress = new RunProgress({
      redis,
      prefix: `${prefix}:`,
      client,
      runs: runs.get,
      enqueue: async (runId, delayMs) => {
        await queue.add(RUN_PROGRESS_JOB, { runId }, { delay: delayMs });
      },
      outbox,
      intervalMs: opts.runIntervalMs ?? 100,
      editSpacingMs: 20,
    });
    const board = new IncidentBoard({
      redis,
      prefix: `${prefix}:`,
      client,
      runs: async () => [],
      enqueue: async () => undefined,
    });
    const connection = testRedis();
    connections.push(connection);
    workers.push(
      new Worker(NOTIFICATIONS_QUEUE, createNotificationsProcessor(board, outbox, progress), {
        connection,
        prefix,
        concurrency: 8,
      }),
    );
    const notifier = new SlackNotifier({
      client,
      views: runViews,
      summaries: outbox,
      runProgress: (run) => progress.touch(run.id),
      fallbackChannel: 'C_SECURITY',
      securityChannel: 'C_SECURITY',
    });
    return { notifier, outbox, progress };
  };
  const replicas = Array.from({ length: opts.replicas ?? 1 }, replica);
  return {
    double,
    redis,
    prefix,
    saved,
    replicas,
    notifier: replicas[0]!.notifier,
    progress: replicas[0]!.progress,
    report: async (run, i = 0) => {
      await runs.save(run);
      await replicas[i]!.notifier.progress(run);
    },
    settled: async () => {
      await eventually(async () => {
        const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      }, 15_000);
    },
    close: async () => {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(connections.map((c) => c.quit()));
      await queue.obliterate({ force: true });
      await queue.close();
      await deletePrefix(redis, prefix);
      await redis.quit();
      if (!opts.double) await double.close();
    },
  };
}
