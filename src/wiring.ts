import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisAuditLog } from './adapters/audit/redis-audit-log';
import type { WebClient } from '@slack/web-api';
import { createWebClient, SlackNotifier } from './adapters/chat/slack-notifier';
import { AWS_ACCESS_KEY_FIELDS, valueFields } from './adapters/store/vault-fields';
import type { VaultSecretStoreOptions } from './adapters/store/vault-store';
import type { Config } from './config';
import type {
  AuditLog,
  Clock,
  Deployer,
  IncidentChannel,
  SecretReferences,
  SecretStore,
} from './domain/ports';
import { DEFAULT_SETTINGS, type EngineSettings } from './procedures/context';
import { RotationService } from './procedures/rotation-service';
import type { ChatNotifier } from './domain/ports';
import { createRedis } from './queue/connection';
import { deferCronParser } from './queue/deferred-cron-parser';
import { ManualGate } from './procedures/manual-gate';
import { ManualConfirmations } from './queue/manual-confirmations';
import {
  APPROVALS_QUEUE,
  DEADLINE_JOB,
  CHANNEL_POST_JOB,
  INCIDENT_BOARD_JOB,
  RUN_PROGRESS_JOB,
  MAINTENANCE_QUEUE,
  NOTIFICATIONS_QUEUE,
  ROTATIONS_QUEUE,
  type ApprovalExpiryJobData,
  type NotificationJobData,
  type RotationJobData,
} from './queue/names';
import { RunStore } from './queue/run-store';
import { IncidentBoard } from './slack/incident-board';
import { ChannelOutbox } from './slack/channel-outbox';
import { RunProgress } from './slack/run-progress';
import { recordRefusal } from './slack/summary-refusal';
import { createIncidentChannel } from './slack/incident-channel';
import { runViews } from './slack/views';
import { SnoozeStore } from './queue/snooze-store';
import { Reminders } from './slack/reminders';
import { SLACK_REQUESTS_QUEUE, type SlackRequestJobData } from './slack/slack-requests';
import type { WorkerServices } from './wiring-worker';

export interface Services {
  config: Config;
  logger: Logger;
  redis: Redis;
  workerRedis: Redis;
  queue: Queue<RotationJobData>;
  approvalQueue: Queue<ApprovalExpiryJobData>;
  /** Scheduled housekeeping: the reconciler. */
  maintenanceQueue: Queue;
  /** `/rotate` commands the web role acked, answered by a worker. */
  slackRequestQueue: Queue<SlackRequestJobData>;
  /** Slack notifications paced across replicas: incident message renders, channel outbox drains. */
  notificationQueue: Queue<NotificationJobData>;
  /** Emergency incidents' one message each (rendered by the notifications worker). */
  incidentBoard: IncidentBoard;
  /** Messages queued per channel and posted by the notifications worker, paced across replicas. */
  outbox: ChannelOutbox;
  /** Runs started from Slack: their progress message in the thread (rendered by the notifications worker). */
  runProgress: RunProgress;
  /** Emergency escalations and incident records, through the incident channel's outbox. */
  incidents: IncidentChannel;
  /** Manual rotations: people's Stored / Revoked clicks reach parked runs through it. */
  manualGate: ManualGate;
  runs: RunStore;
  store: SecretStore;
  /** The workers' audit log (waits out Redis trouble). */
  audit: AuditLog;
  /** The request paths' audit log (Slack handlers, the service): fails fast when Redis is down. */
  requestAudit: AuditLog;
  slackClient: WebClient;
  chat: ChatNotifier;
  service: RotationService;
  settings: EngineSettings;
  /** The weekly digests, `/rotate due` and Snooze. */
  reminders: Reminders;
  /**
   * What only workers need (the engine, issuers, Kubernetes, the reconciler), built on first call:
   * a web role that never asks never loads those modules.
   */
  worker(): Promise<WorkerServices>;
  close(): Promise<void>;
}

export interface WiringOverrides {
  clock?: Clock;
  chat?: ChatNotifier;
  incidents?: IncidentChannel;
  settings?: Partial<EngineSettings>;
}

// Before BullMQ's Queue module loads: it requires cron-parser, which the web role never uses.
deferCronParser();

/**
 * BullMQ's Queue class alone: its package index also loads the Worker, flows, sandboxed processors
 * and the PostgreSQL backend (≈80 modules more), which the web role never uses. The same module
 * the index re-exports, so a worker loading the index shares it.
 */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Queue: BullQueue } = require('bullmq/dist/cjs/classes/queue') as { Queue: typeof Queue };

/** Builds every adapter from the configuration: the one place the ports meet their implementations. */
export function buildServices(config: Config, logger: Logger, overrides: WiringOverrides = {}): Services {
  const env = config.env;
  const clock = overrides.clock ?? { now: () => new Date() };
  const prefix = env.QUEUE_PREFIX;
  const redis = createRedis(env.REDIS_URL, 'request');
  const workerRedis = createRedis(env.REDIS_URL, 'worker');
  const queue = new BullQueue<RotationJobData>(ROTATIONS_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      // Attempts cover transient trouble outside the steps' own retries (an audit outage, Redis blips).
      attempts: 8,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 7 * 86_400 },
      removeOnFail: { age: 30 * 86_400 },
    },
  });
  const runs = new RunStore(workerRedis, prefix);
  const audit = new RedisAuditLog(workerRedis, `${prefix}:audit`, logger.child({ component: 'audit' }), () =>
    clock.now(),
  );
  // AWS access keys are kept as the pair AWS names them (access_key_id, secret_access_key).
  const awsPaths = new Set(
    [...config.catalog.credentials.values()].filter((c) => c.issuer.kind === 'aws_iam').map((c) => c.store),
  );
  const store = storeFrom({
    endpoint: env.VAULT_ADDR,
    token: env.VAULT_TOKEN,
    mount: env.VAULT_KV_MOUNT,
    layoutOf: (path) => (awsPaths.has(path) ? AWS_ACCESS_KEY_FIELDS : undefined),
  });
  const slackClient = createWebClient({
    token: env.SLACK_BOT_TOKEN,
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger,
  });
  const notificationQueue = new BullQueue<NotificationJobData>(NOTIFICATIONS_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: true,
      removeOnFail: { age: 86_400 },
    },
  });
  // Queued work answers a 429 by deferring its job (Retry-After), never by holding a worker slot,
  // and makes one short attempt per job: BullMQ's deferral does the retrying, and a call ends well
  // inside the posting slot it holds (PacedDrain's lock), so no second drain posts the same items.
  const queuedSlackClient = createWebClient({
    token: env.SLACK_BOT_TOKEN,
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeoutMs: 10_000,
  });
  // The request connection: a report from the engine fails fast instead of blocking on a dead Redis.
  const incidentBoard = new IncidentBoard({
    redis,
    prefix: `${prefix}:`,
    client: queuedSlackClient,
    runs: (ref) => runs.incidentRuns(ref),
    enqueue: async (ref, delayMs) => {
      await notificationQueue.add(INCIDENT_BOARD_JOB, { ref }, { delay: delayMs });
    },
    logger: logger.child({ component: 'incident-board' }),
  });
  const outbox = new ChannelOutbox({
    redis,
    prefix: `${prefix}:`,
    client: queuedSlackClient,
    enqueue: async (channel, delayMs) => {
      await notificationQueue.add(CHANNEL_POST_JOB, { channel }, { delay: delayMs });
    },
    fallbackChannel: env.SECURITY_CHANNEL,
    onRefused: (refusal) => recordRefusal(runs, refusal),
    logger: logger.child({ component: 'outbox' }),
  });
  const runProgress = new RunProgress({
    redis,
    prefix: `${prefix}:`,
    client: queuedSlackClient,
    runs: (runId) => runs.get(runId),
    enqueue: async (runId, delayMs) => {
      await notificationQueue.add(RUN_PROGRESS_JOB, { runId }, { delay: delayMs });
    },
    outbox,
    logger: logger.child({ component: 'run-progress' }),
  });
  const incidents =
    overrides.incidents ?? createIncidentChannel({ outbox, securityChannel: env.SECURITY_CHANNEL });
  const chat =
    overrides.chat ??
    new SlackNotifier({
      client: slackClient,
      views: runViews,
      summaries: outbox,
      runProgress: (run) => runProgress.touch(run.id),
      progressAt: async (runId) => (await runProgress.message(runId))?.ts,
      logger,
      fallbackChannel: env.SECURITY_CHANNEL,
      securityChannel: env.SECURITY_CHANNEL,
      incidentProgress: (run) => incidentBoard.touch(run.incident!.ref),
    });
  const settings: EngineSettings = {
    ...DEFAULT_SETTINGS,
    pollIntervalMs: env.POLL_INTERVAL_MS,
    rolloutTimeoutMs: env.ROLLOUT_TIMEOUT_SECONDS * 1000,
    propagationMs: env.REVOCATION_PROPAGATION_SECONDS * 1000,
    quietWindowMs: env.OLD_KEY_QUIET_SECONDS * 1000,
    rollbackBudgetMs: env.ROLLBACK_BUDGET_SECONDS * 1000,
    ...overrides.settings,
  };
  const maintenanceQueue = new BullQueue(MAINTENANCE_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      attempts: 3,
      backoff: { type: 'exponential', delay: 10_000 },
      removeOnComplete: { count: 100 },
      removeOnFail: { count: 100 },
    },
  });
  const catalog = config.catalog.credentials;
  // Job options are the enqueuer's (slack-requests.ts): one attempt, removed once finished.
  const slackRequestQueue = new BullQueue<SlackRequestJobData>(SLACK_REQUESTS_QUEUE, {
    connection: redis,
    prefix,
  });
  const approvalQueue = new BullQueue<ApprovalExpiryJobData>(APPROVALS_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    },
  });
  const requestAudit = new RedisAuditLog(redis, `${prefix}:audit`, logger.child({ component: 'audit' }), () =>
    clock.now(),
  );
  let workerParts: Promise<WorkerServices> | undefined;
  const worker = () =>
    (workerParts ??= import('./wiring-worker').then(({ buildWorkerServices }) =>
      buildWorkerServices({
        config,
        logger,
        clock,
        runs,
        audit,
        store,
        chat,
        incidents,
        settings,
        workerRedis,
        maintenanceQueue,
      }),
    ));
  // Planning and the inventory (until they move to the workers) are the web role's only uses of
  // Kubernetes and the issuers: loaded by the first plan or inventory that needs them.
  const deployer = deployerFrom(async () => (await worker()).deployer);
  const service = new RotationService({
    catalog,
    store,
    deployer,
    runs: new RunStore(redis, prefix),
    queue,
    audit: requestAudit,
    clock,
    logger,
    lockTtlMs: settings.lockTtlMs,
    dueSoonDays: env.DUE_SOON_DAYS,
    immediateDeadlineMs: env.EMERGENCY_IMMEDIATE_MINUTES * 60_000,
    cluster: deployer,
    inventoryConcurrency: env.INVENTORY_CONCURRENCY,
    scheduleDeadlines: async (run, deadlineMs) => {
      for (const kind of ['half', 'deadline'] as const) {
        await maintenanceQueue.add(
          DEADLINE_JOB,
          { runId: run.id, kind, deadlineMs },
          { jobId: `deadline-${kind}-${run.id}`, delay: kind === 'half' ? deadlineMs / 2 : deadlineMs },
        );
      }
    },
    chat,
    issuerFor: async (spec) => (await worker()).issuerFor(spec),
  });
  const reminders = new Reminders({
    // Catalog, Vault and the cluster's drift, as `npm run inventory` shows them.
    loadInventory: () => service.inventory(),
    snoozes: new SnoozeStore(redis, prefix),
    settings: { securityChannel: env.SECURITY_CHANNEL, dueSoonDays: env.DUE_SOON_DAYS },
    clock,
  });
  // The request connection: a click answers fast, or fails, when Redis is in trouble.
  const manualGate = new ManualGate({
    catalog,
    store,
    runs: new RunStore(redis, prefix),
    confirmations: new ManualConfirmations(redis, prefix),
    queue,
    audit: requestAudit,
    clock,
  });
  return {
    config,
    logger,
    manualGate,
    reminders,
    redis,
    workerRedis,
    queue,
    approvalQueue,
    maintenanceQueue,
    notificationQueue,
    slackRequestQueue,
    incidentBoard,
    outbox,
    runProgress,
    incidents,
    runs,
    store,
    audit,
    requestAudit,
    slackClient,
    chat,
    service,
    settings,
    worker,
    close: async () => {
      await (await workerParts)?.close();
      await queue.close();
      await approvalQueue.close();
      await maintenanceQueue.close();
      await notificationQueue.close();
      await slackRequestQueue.close();
      redis.disconnect();
      workerRedis.disconnect();
    },
  };
}

/**
 * The Vault store, whose client (node-vault) is loaded by its first call: the web role reads Vault
 * only for an emergency's scope, a recovery or a manual rotation's click, and starts without it.
 */
function storeFrom(opts: VaultSecretStoreOptions): SecretStore {
  let loaded: Promise<SecretStore> | undefined;
  const load = () =>
    (loaded ??= import('./adapters/store/vault-store').then(
      ({ VaultSecretStore }) => new VaultSecretStore(opts),
    ));
  return {
    read: async (...a) => (await load()).read(...a),
    write: async (...a) => (await load()).write(...a),
    patch: async (...a) => (await load()).patch(...a),
    list: async (...a) => (await load()).list(...a),
    // The same layout the store uses (vault-fields.ts), known without loading its client.
    valueField: (path) => (opts.layoutOf?.(path) ?? valueFields(path)).value,
  };
}

/** A Deployer (and the cluster's Secret references) whose implementation is loaded by its first call. */
function deployerFrom(load: () => Promise<Deployer & SecretReferences>): Deployer & SecretReferences {
  return {
    forceSync: async (...a) => (await load()).forceSync(...a),
    synced: async (...a) => (await load()).synced(...a),
    restart: async (...a) => (await load()).restart(...a),
    rolloutStatus: async (...a) => (await load()).rolloutStatus(...a),
    discover: async (...a) => (await load()).discover(...a),
    references: async (...a) => (await load()).references(...a),
  };
}
