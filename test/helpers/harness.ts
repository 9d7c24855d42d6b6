import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'bullmq';
import { registerWorkers } from '../../jobs';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config';
import type { IncidentChannel } from '../../src/domain/ports';
import type { Run } from '../../src/domain/run';
import { createLogger } from '../../src/logger';
import type { EngineSettings } from '../../src/procedures/context';
import { startRole } from '../../src/main';
import type { SlackApp } from '../../src/slack/app';
import type { Services } from '../../src/wiring';
import { startWorld, type World, type WorldOptions } from '../../sandbox/world';
import { eventually } from './eventually';
import { LogCapture } from './log-capture';
import { deletePrefix, REDIS_URL, testRedis } from './redis';
import { blockActionBody, postSigned, type SignedResponse } from './slack-signing';
// The worker side is imported by startRole on demand; loaded here, with the test file, its compile
// time (the Kubernetes client goes through Babel) stays out of the hooks' timeouts, as before.
import '../../jobs';
import '../../src/wiring-worker';

/** Engine timings that keep the suite fast while exercising every wait path. */
export const FAST_SETTINGS: Partial<EngineSettings> = {
  pollIntervalMs: 100,
  verifyGraceMs: 600,
  quietWindowMs: 300,
  transientRetryMs: 3_000,
  propagationMs: 3_000,
  rolloutTimeoutMs: 15_000,
};

export interface Harness {
  prefix: string;
  world: World;
  services: Services;
  logs: LogCapture;
  redis: Redis;
  workers: Worker[];
  /** The real Bolt app (HTTP receiver on an ephemeral port). */
  slack: SlackApp;
  /** POST /slack/events of that app. */
  slackEndpoint: string;
  env: Record<string, string>;
  /** A signed click on a button of a message the bot posted (`ts`) in `channel`. */
  click(actionId: string, value: string, user: string, channel: string, ts: string): Promise<SignedResponse>;
  /** Polls the run record until `done` holds (default: finished). */
  waitForRun(runId: string, done?: (r: Run) => boolean, timeoutMs?: number): Promise<Run>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  settings?: Partial<EngineSettings>;
  /** false: no worker in this process (a test starts its own, e.g. as a child process). */
  worker?: boolean;
  rolloutDelayMs?: number;
  cacheTtlSeconds?: number;
  extraEnv?: Record<string, string>;
  editCatalog?: WorldOptions['editCatalog'];
  /** Where emergency escalations and incident records go (the Slack one by default). */
  incidents?: IncidentChannel;
}

/** The whole system on real Redis: every double, the real adapters, the engine and a worker. */
export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const prefix = `test-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'rotator-'));
  const world = await startWorld({
    dir,
    redisUrl: REDIS_URL,
    queuePrefix: prefix,
    ...(opts.rolloutDelayMs !== undefined ? { rolloutDelayMs: opts.rolloutDelayMs } : {}),
    ...(opts.cacheTtlSeconds !== undefined ? { cacheTtlSeconds: opts.cacheTtlSeconds } : {}),
    ...(opts.editCatalog ? { editCatalog: opts.editCatalog } : {}),
  });
  const env = { ...world.env, PORT: '0', POLL_INTERVAL_MS: '100', LOG_LEVEL: 'debug', ...opts.extraEnv };
  const logs = new LogCapture();
  const logger = createLogger('debug', logs);
  // The same wiring as `main.ts all` (or `web` when a test brings its own worker).
  const running = await startRole(opts.worker === false ? 'web' : 'all', loadConfig(env), logger, {
    settings: { ...FAST_SETTINGS, ...opts.settings },
    ...(opts.incidents ? { incidents: opts.incidents } : {}),
  });
  const { services, workers } = running;
  const slack = running.slack!;
  const redis = testRedis();

  const waitForRun = async (
    runId: string,
    done = (r: Run) => r.status === 'finished',
    timeoutMs = 20_000,
  ): Promise<Run> => {
    let seen: Run | undefined;
    return eventually(
      async () => {
        seen = await services.runs.get(runId);
        return seen && done(seen) ? seen : undefined;
      },
      {
        timeoutMs,
        intervalMs: 50,
        describe: () =>
          `run ${runId} did not reach the expected state: ${JSON.stringify(seen?.steps.map((s) => [s.name, s.status, s.detail]))}`,
      },
    );
  };

  let clicks = 0;
  const click = (actionId: string, value: string, user: string, channel: string, ts: string) =>
    postSigned(
      `http://127.0.0.1:${slack.port()}/slack/events`,
      world.env.SLACK_SIGNING_SECRET!,
      blockActionBody({
        actionId,
        value,
        user,
        channel,
        messageTs: ts,
        responseUrl: world.slack.responseUrl(`act-${user}-${(clicks += 1)}`),
      }),
    );

  return {
    prefix,
    world,
    click,
    services,
    logs,
    redis,
    workers,
    slack,
    slackEndpoint: `http://127.0.0.1:${slack.port()}/slack/events`,
    env,
    waitForRun,
    close: async () => {
      await services.queue.obliterate({ force: true }).catch(() => undefined);
      await running.stop();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      await world.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Workers of a new process on the harness's queues (a worker that replaces one that died or was
 * stopped): the same processors, with short lock timings so a dead worker's job is taken over fast.
 */
export async function replacementWorkers(h: Harness, lockMs = 2000): Promise<Worker[]> {
  const { engine } = await h.services.worker();
  return registerWorkers(engine, h.services.service, {
    connection: h.services.workerRedis,
    prefix: h.prefix,
    concurrency: 1,
    logger: h.services.logger,
    lockDurationMs: lockMs,
    stalledIntervalMs: lockMs / 2,
    // A worker process also renders Slack progress and drains the channel outboxes.
    notifications: {
      board: h.services.incidentBoard,
      outbox: h.services.outbox,
      progress: h.services.runProgress,
    },
  });
}
