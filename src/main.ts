/**
 * The roles' process: `node dist/main.js [web|worker|all]` (default all; src/entry.ts loads this
 * module's bundle), or compiled unbundled as `node dist/src/main.js`. Only wires:
 * configuration → adapters (src/wiring.ts) → the Slack app (web) and/or the BullMQ workers (worker).
 */
import type { Worker } from 'bullmq';
import type { Logger } from 'pino';
import { answerRotate, publishHome, register } from '../commands';
import { loadConfig, type Config } from './config';
import { isRotatorError, RotatorError } from './domain/errors';
import { createLogger } from './logger';
import {
  approvalExpiryJobId,
  OUTBOX_RESUME_JOB,
  deleteOldKeyJobId,
  planCloseJobId,
  REACTIVATE_OLD_KEY_JOB,
  RECONCILE_JOB,
} from './queue/names';
import { scheduleReminders } from './queue/reminder-schedule';
import { durabilityProblems, readPersistence } from './queue/redis-durability';
import type { SlackApp } from './slack/app';
import { ApprovalStore } from './slack/approvals';
import { Authorization, slackGroupMembers } from './slack/authorization';
import { tellUser } from './slack/error-handler';
import { slackRequestEnqueuer, targetOfRequest, type SlackRequestJobData } from './slack/slack-requests';
import { buildServices, type Services, type WiringOverrides } from './wiring';

export type Role = 'web' | 'worker' | 'all';

export interface Running {
  services: Services;
  slack?: SlackApp;
  workers: Worker[];
  stop(): Promise<void>;
}

/**
 * The role's configuration. Only the roles that schedule the weekly digest check its schedule
 * (REMINDER_CRON in REMINDER_TZ): the web role never runs it, and the check costs it the ICU data.
 */
export function loadRoleConfig(role: Role, env: Record<string, string | undefined> = process.env): Config {
  return loadConfig(env, { schedule: role !== 'web' });
}

/** Starts the given role in this process; used by main and by the demo. */
export async function startRole(
  role: Role,
  config: Config,
  logger: Logger,
  overrides: WiringOverrides = {},
): Promise<Running> {
  const env = config.env;
  const services = buildServices(config, logger, overrides);
  try {
    await checkRedis(services, env.ALLOW_EPHEMERAL_REDIS, logger);
    // The queues' scripts defined and Redis's version read now, not by the first command's add.
    await Promise.all(
      [
        services.queue,
        services.approvalQueue,
        services.maintenanceQueue,
        services.notificationQueue,
        services.slackRequestQueue,
      ].map((q) => q.waitUntilReady()),
    );
  } catch (e) {
    await services.close();
    throw e;
  }
  let slack: SlackApp | undefined;
  if (role !== 'worker') {
    const { createSlackApp } = await loadSlackApp();
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
      manual: services.manualGate,
      approvalTtlMs: env.APPROVAL_TTL_MINUTES * 60_000,
      incidentChannelPattern: new RegExp(env.INCIDENT_CHANNEL_PATTERN),
      reminders: services.reminders,
      enqueueRequest: slackRequestEnqueuer(services.slackRequestQueue),
      scheduleExpiry: scheduleExpiry(services),
      // Slack refused to close an approved plan (a 429 storm): retry once the storm has passed.
      scheduleClose: async (requestId, line) => {
        await services.approvalQueue.add(
          'close',
          { requestId, line },
          { jobId: planCloseJobId(requestId), delay: 30_000 },
        );
      },
      reactivateOldKey: async (runId, identity) => {
        await services.maintenanceQueue.add(REACTIVATE_OLD_KEY_JOB, { runId, identity });
      },
    });
    await slack.start();
  }
  const workers = role === 'web' ? [] : await startWorkers(services, config, logger);
  if (role !== 'web') {
    await scheduleReconciler(services, env.RECONCILE_INTERVAL_SECONDS * 1000);
    // Outbox items a failed drain left behind are picked up within a minute, posted or not.
    await services.notificationQueue.upsertJobScheduler(
      OUTBOX_RESUME_JOB,
      { every: 60_000 },
      { name: OUTBOX_RESUME_JOB, data: {} },
    );
    const { missedTick } = await scheduleReminders(services.maintenanceQueue, {
      pattern: env.REMINDER_CRON,
      tz: env.REMINDER_TZ,
    });
    if (missedTick !== undefined)
      logger.info(
        { tick: new Date(missedTick).toISOString() },
        'reminder tick missed, or due as this replica starts: posting it once',
      );
  }
  return {
    services,
    ...(slack ? { slack } : {}),
    workers,
    stop: async () => {
      await slack?.stop();
      await Promise.all(workers.map((w) => w.close()));
      await services.close();
    },
  };
}

/** Bolt (and its HTTP server), the web role's alone. The build loads it to warm the code cache. */
export const loadSlackApp = () => import('./slack/app');

/** Closes an undecided plan at its expiry: a delayed job on the approvals queue. */
function scheduleExpiry(services: Services) {
  return async (requestId: string, atMs: number): Promise<void> => {
    await services.approvalQueue.add(
      'expire',
      { requestId },
      { jobId: approvalExpiryJobId(requestId), delay: Math.max(0, atMs - Date.now()) + 1_000 },
    );
  };
}

/**
 * What a worker needs to answer a `/rotate` the web role queued: the same services the listeners
 * use, on the request connection (fails fast), and the bot's Web API client.
 */
function slackRequestAnswers(services: Services, config: Config, logger: Logger) {
  const env = config.env;
  const now = () => new Date();
  const client = services.slackClient;
  const deps = {
    requests: services.service,
    authorization: new Authorization({ access: config.catalog.access, groups: slackGroupMembers(client) }),
    approvals: new ApprovalStore({
      redis: services.redis,
      prefix: `${env.QUEUE_PREFIX}:`,
      ttlMs: env.APPROVAL_TTL_MINUTES * 60_000,
      now,
    }),
    audit: services.requestAudit,
    reminders: services.reminders,
    now,
    logger,
    scheduleExpiry: scheduleExpiry(services),
  };
  return {
    concurrency: env.SLACK_WORK_CONCURRENCY,
    answer: (request: SlackRequestJobData) =>
      request.kind === 'home' ? publishHome(deps, client, request.user) : answerRotate(deps, client, request),
    tell: (request: SlackRequestJobData, error: unknown) =>
      tellUser(client, targetOfRequest(request), error, logger),
  };
}

/** The BullMQ workers, with the modules only they need (engine, issuers, Kubernetes) loaded now. */
async function startWorkers(services: Services, config: Config, logger: Logger): Promise<Worker[]> {
  const env = config.env;
  const [{ registerWorkers }, parts] = await Promise.all([import('../jobs'), services.worker()]);
  return registerWorkers(parts.engine, services.service, {
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
    maintenance: {
      reconcile: {
        reconciler: parts.reconciler,
        catalog: config.catalog.credentials,
        redis: services.workerRedis,
        prefix: env.QUEUE_PREFIX,
        client: services.slackClient,
        securityChannel: env.SECURITY_CHANNEL,
        audit: services.audit,
        logger: logger.child({ component: 'reconciler' }),
      },
      scope: {
        runs: services.runs,
        catalog: config.catalog.credentials,
        store: services.store,
        issuerFor: parts.issuerFor,
        incidents: services.incidents,
        clock: { now: () => new Date() },
        logger: logger.child({ component: 'scope' }),
        mount: env.VAULT_KV_MOUNT,
        ...(env.VAULT_AUDIT_LOG ? { vaultAuditLog: env.VAULT_AUDIT_LOG } : {}),
      },
      deadlines: {
        runs: services.runs,
        audit: services.audit,
        incidents: services.incidents,
      },
      reminders: {
        reminders: services.reminders,
        redis: services.workerRedis,
        prefix: env.QUEUE_PREFIX,
        client: services.slackClient,
        audit: services.audit,
        logger: logger.child({ component: 'reminders' }),
        securityChannel: env.SECURITY_CHANNEL,
      },
      oldKeys: {
        runs: services.runs,
        catalog: config.catalog.credentials,
        issuerFor: parts.issuerFor,
        audit: services.audit,
        clock: { now: () => new Date() },
        store: services.store,
        dropDeletion: async (runId) => {
          // A deletion job running right now cannot be removed; it waits for the lock, then finds the reactivation.
          await services.maintenanceQueue.remove(deleteOldKeyJobId(runId)).catch(() => 0);
        },
      },
    },
    notifications: {
      board: services.incidentBoard,
      outbox: services.outbox,
      progress: services.runProgress,
    },
    slackRequests: slackRequestAnswers(services, config, logger),
  });
}

/**
 * Vault is the source of truth, but runs, locks and the audit stream live in Redis: a Redis that
 * would lose them on restart is refused (or, when allowed, announced loudly at every start).
 */
async function checkRedis(services: Services, allowEphemeral: boolean, logger: Logger): Promise<void> {
  const persistence = await readPersistence(services.redis);
  if (!persistence) {
    logger.warn(
      'Redis refused CONFIG GET: cannot tell whether it persists data; make sure it has AOF and noeviction',
    );
    return;
  }
  const problems = durabilityProblems(persistence);
  if (problems.length === 0) return;
  const what = `Redis would lose in-flight runs, locks and the audit stream: ${problems.join('; ')}`;
  if (!allowEphemeral) {
    throw new RotatorError(
      'config_invalid',
      `${what}. Enable persistence (appendonly yes, or RDB save points) and maxmemory-policy noeviction, or set ALLOW_EPHEMERAL_REDIS=true for a demo or a test.`,
    );
  }
  logger.warn(
    { problems },
    `EPHEMERAL REDIS — ${what}; allowed by ALLOW_EPHEMERAL_REDIS=true. The reconciler will find half-rotations from Vault after a loss.`,
  );
}

/** The reconciler's tick (one job per interval across replicas) and one run at start-up. */
async function scheduleReconciler(services: Services, everyMs: number): Promise<void> {
  const q = services.maintenanceQueue;
  await q.upsertJobScheduler(RECONCILE_JOB, { every: everyMs }, { name: RECONCILE_JOB, data: {} });
  // Replicas starting together add one start-up run between them (deduplicated while it is pending).
  await q.add(RECONCILE_JOB, {}, { deduplication: { id: 'reconcile-startup' } });
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
    config = loadRoleConfig(role);
  } catch (e) {
    // One clear message listing every problem, no stack trace.
    console.error(
      isRotatorError(e) ? e.message : `configuration could not be loaded: ${(e as Error).message}`,
    );
    process.exit(2);
  }
  const logger = createLogger(config.env.LOG_LEVEL);
  let running: Running;
  try {
    running = await startRole(role, config, logger);
  } catch (e) {
    if (isRotatorError(e) && e.code === 'config_invalid') {
      console.error(e.message);
      process.exit(2);
    }
    throw e;
  }
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

/** The process: `node dist/main.js [role]` (the bundle, src/entry.ts) or `node dist/src/main.js [role]`. */
export function run(): void {
  main().catch((e: unknown) => {
    console.error(`credential-rotator failed to start: ${(e as Error).message}`);
    process.exit(1);
  });
}

if (require.main === module) run();
