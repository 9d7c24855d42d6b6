/**
 * Process entry: `node dist/src/main.js [web|worker|all]` (default all). Only wires:
 * configuration → adapters (src/wiring.ts) → the Slack app (web) and/or the BullMQ workers (worker).
 */
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { register } from '../commands';
import { registerWorkers } from '../jobs';
import { loadConfig, type Config } from './config';
import { isRotatorError } from './domain/errors';
import { createLogger } from './logger';
import { approvalExpiryJobId, planCloseJobId } from './queue/names';
import { createSlackApp, type SlackApp } from './slack/app';
import { ApprovalStore } from './slack/approvals';
import { buildServices, type Services, type WiringOverrides } from './wiring';

export type Role = 'web' | 'worker' | 'all';

export interface Running {
  services: Services;
  slack?: SlackApp;
  workers: Worker[];
  stop(): Promise<void>;
}

/** Starts the given role in this process; used by main and by the demo. */
export async function startRole(
  role: Role,
  config: Config,
  logger: Logger,
  overrides: WiringOverrides = {},
): Promise<Running> {
  const services = buildServices(config, logger, overrides);
  const env = config.env;
  let slack: SlackApp | undefined;
  if (role !== 'worker') {
    slack = createSlackApp({
      register,
      signingSecret: env.SLACK_SIGNING_SECRET,
      botToken: env.SLACK_BOT_TOKEN,
      ...(env.SLACK_APP_TOKEN ? { appToken: env.SLACK_APP_TOKEN } : {}),
      ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
      port: env.PORT,
      logger,
      requests: services.service,
      access: config.catalog.access,
      approvals: { redis: services.redis, prefix: `${env.QUEUE_PREFIX}:` },
      audit: services.requestAudit,
      approvalTtlMs: env.APPROVAL_TTL_MINUTES * 60_000,
      scheduleExpiry: async (requestId, atMs) => {
        await services.approvalQueue.add(
          'expire',
          { requestId },
          { jobId: approvalExpiryJobId(requestId), delay: Math.max(0, atMs - Date.now()) + 1_000 },
        );
      },
      // Slack refused to close an approved plan (a 429 storm): retry once the storm has passed.
      scheduleClose: async (requestId, line) => {
        await services.approvalQueue.add(
          'close',
          { requestId, line },
          { jobId: planCloseJobId(requestId), delay: 30_000 },
        );
      },
    });
    await slack.start();
  }
  const workers =
    role === 'web'
      ? []
      : registerWorkers(services.engine, services.service, {
          connection: services.workerRedis,
          prefix: env.QUEUE_PREFIX,
          concurrency: env.WORKER_CONCURRENCY,
          logger,
          lockDurationMs: env.WORKER_LOCK_MS,
          stalledIntervalMs: env.WORKER_LOCK_MS,
          approvals: {
            store: new ApprovalStore({ redis: services.workerRedis, prefix: `${env.QUEUE_PREFIX}:` }),
            client: services.slackClient,
            audit: services.audit,
          },
        });
  return {
    services,
    ...(slack ? { slack } : {}),
    workers,
    stop: async () => {
      await slack?.stop();
      await Promise.all(workers.map((w) => w.close()));
      await services.chat.idle?.();
      await services.close();
    },
  };
}

function parseRole(arg: string | undefined): Role | undefined {
  if (arg === undefined) return 'all';
  return arg === 'web' || arg === 'worker' || arg === 'all' ? arg : undefined;
}

async function main(): Promise<void> {
  const role = parseRole(process.argv[2]);
  if (!role) {
    console.error(`unknown role ${JSON.stringify(process.argv[2])}: use web, worker or all`);
    process.exit(2);
  }
  let config: Config;
  try {
    config = loadConfig();
  } catch (e) {
    // One clear message listing every problem, no stack trace.
    console.error(
      isRotatorError(e) ? e.message : `configuration could not be loaded: ${(e as Error).message}`,
    );
    process.exit(2);
  }
  const logger = createLogger(config.env.LOG_LEVEL);
  const running = await startRole(role, config, logger);
  logger.info(
    { role, port: role === 'worker' ? undefined : running.slack?.port() },
    'credential-rotator started',
  );
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(`credential-rotator failed to start: ${(e as Error).message}`);
    process.exit(1);
  });
}
