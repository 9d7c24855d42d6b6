import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisAuditLog } from './adapters/audit/redis-audit-log';
import type { WebClient } from '@slack/web-api';
import { createWebClient, SlackNotifier } from './adapters/chat/slack-notifier';
import { kubeConfigFrom } from './adapters/deployers/kubeconfig';
import { KubernetesDeployer } from './adapters/deployers/kubernetes-deployer';
import { AwsIamIssuer } from './adapters/issuers/aws-iam-issuer';
import { createDatabaseIssuer } from './adapters/issuers/database-issuer-factory';
import { HttpSecretIssuer } from './adapters/issuers/http-secret-issuer';
import { ManualIssuer } from './adapters/issuers/manual-issuer';
import { RestApiKeyIssuer } from './adapters/issuers/rest-api-key-issuer';
import { AWS_ACCESS_KEY_FIELDS } from './adapters/store/vault-fields';
import { VaultSecretStore } from './adapters/store/vault-store';
import { ConsumerHealth } from './adapters/verifiers/consumer-health';
import { HttpHealthChecker } from './adapters/verifiers/http-health-checker';
import { PodLogChecker } from './adapters/verifiers/pod-log-checker';
import type { Config } from './config';
import type { CredentialSpec } from './domain/credential';
import type { AuditLog, Clock, IncidentChannel, Issuer, SecretStore } from './domain/ports';
import { DEFAULT_SETTINGS, type EngineSettings } from './procedures/context';
import { RotationEngine } from './procedures/engine';
import { RotationService } from './procedures/rotation-service';
import type { ChatNotifier } from './domain/ports';
import { createRedis } from './queue/connection';
import { ManualGate } from './procedures/manual-gate';
import { Reconciler } from './procedures/reconciler';
import { ManualConfirmations } from './queue/manual-confirmations';
import {
  APPROVALS_QUEUE,
  ASSESS_JOB,
  DEADLINE_JOB,
  CHANNEL_POST_JOB,
  DELETE_OLD_KEY_JOB,
  deleteOldKeyJobId,
  INCIDENT_BOARD_JOB,
  RUN_PROGRESS_JOB,
  MAINTENANCE_QUEUE,
  NOTIFICATIONS_QUEUE,
  ROTATIONS_QUEUE,
  type ApprovalExpiryJobData,
  type NotificationJobData,
  type RotationJobData,
} from './queue/names';
import { IssuerLimiter, LimitedIssuer } from './queue/issuer-limiter';
import { RunStore } from './queue/run-store';
import { IncidentBoard } from './slack/incident-board';
import { ChannelOutbox } from './slack/channel-outbox';
import { RunProgress } from './slack/run-progress';
import { recordRefusal } from './slack/summary-refusal';
import { createIncidentChannel } from './slack/incident-channel';
import { runViews } from './slack/views';
import { SnoozeStore } from './queue/snooze-store';
import { Reminders } from './slack/reminders';

export interface Services {
  config: Config;
  logger: Logger;
  redis: Redis;
  workerRedis: Redis;
  queue: Queue<RotationJobData>;
  approvalQueue: Queue<ApprovalExpiryJobData>;
  /** Scheduled housekeeping: the reconciler. */
  maintenanceQueue: Queue;
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
  reconciler: Reconciler;
  /** Manual rotations: people's Stored / Revoked clicks reach parked runs through it. */
  manualGate: ManualGate;
  runs: RunStore;
  store: SecretStore;
  issuerFor: (spec: CredentialSpec) => Issuer;
  /** The workers' audit log (waits out Redis trouble). */
  audit: AuditLog;
  /** The request paths' audit log (Slack handlers, the service): fails fast when Redis is down. */
  requestAudit: AuditLog;
  slackClient: WebClient;
  chat: ChatNotifier;
  engine: RotationEngine;
  service: RotationService;
  settings: EngineSettings;
  /** The weekly digests, `/rotate due` and Snooze. */
  reminders: Reminders;
  close(): Promise<void>;
}

export interface WiringOverrides {
  clock?: Clock;
  chat?: ChatNotifier;
  incidents?: IncidentChannel;
  settings?: Partial<EngineSettings>;
}

/** The issuer adapter a catalog entry names. */
function directIssuer(spec: CredentialSpec, store: SecretStore): Issuer {
  const i = spec.issuer;
  switch (i.kind) {
    case 'rest_api_key':
      return new RestApiKeyIssuer({
        baseUrl: i.baseUrl,
        adminToken: i.adminToken,
        permissions: i.permissions,
      });
    case 'aws_iam':
      return new AwsIamIssuer({ spec: i, ...(i.endpoint ? { endpoint: i.endpoint } : {}) });
    case 'http_secret':
      return new HttpSecretIssuer({ spec: i });
    case 'manual':
      return new ManualIssuer({ spec: i });
    default:
      return createDatabaseIssuer({ ...spec, issuer: i }, store);
  }
}

/** Builds every adapter from the configuration: the one place the ports meet their implementations. */
export function buildServices(config: Config, logger: Logger, overrides: WiringOverrides = {}): Services {
  const env = config.env;
  const clock = overrides.clock ?? { now: () => new Date() };
  const prefix = env.QUEUE_PREFIX;
  const redis = createRedis(env.REDIS_URL, 'request');
  const workerRedis = createRedis(env.REDIS_URL, 'worker');
  const queue = new Queue<RotationJobData>(ROTATIONS_QUEUE, {
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
  const confirmations = new ManualConfirmations(workerRedis, prefix);
  const audit = new RedisAuditLog(workerRedis, `${prefix}:audit`, logger.child({ component: 'audit' }), () =>
    clock.now(),
  );
  // AWS access keys are kept as the pair AWS names them (access_key_id, secret_access_key).
  const awsPaths = new Set(
    [...config.catalog.credentials.values()].filter((c) => c.issuer.kind === 'aws_iam').map((c) => c.store),
  );
  const store = new VaultSecretStore({
    endpoint: env.VAULT_ADDR,
    token: env.VAULT_TOKEN,
    mount: env.VAULT_KV_MOUNT,
    layoutOf: (path) => (awsPaths.has(path) ? AWS_ACCESS_KEY_FIELDS : undefined),
  });
  const kubeConfig = kubeConfigFrom(env.KUBECONFIG ? { kubeconfigPath: env.KUBECONFIG } : {});
  const deployer = new KubernetesDeployer(kubeConfig, {
    onWatchError: (namespace, reason) =>
      logger.warn({ namespace, reason }, 'rollout watch broke; falling back to polling'),
  });
  const issuers = new Map<string, Issuer>();
  // A freed slot is announced on a connection of its own (subscriber mode takes one whole), opened
  // by the first call that has to wait.
  const limiter = new IssuerLimiter(workerRedis, prefix, {
    subscriber: () => createRedis(env.REDIS_URL, 'worker'),
  });
  const issuerFor = (spec: CredentialSpec): Issuer => {
    let issuer = issuers.get(spec.name);
    if (!issuer) {
      const direct = directIssuer(spec, store);
      const limit = spec.issuer.kind === 'manual' ? undefined : spec.issuer.maxConcurrent;
      issuer = limit ? new LimitedIssuer(direct, limiter, spec.issuer.name, limit) : direct;
      issuers.set(spec.name, issuer);
    }
    return issuer;
  };
  const slackClient = createWebClient({
    token: env.SLACK_BOT_TOKEN,
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger,
  });
  const notificationQueue = new Queue<NotificationJobData>(NOTIFICATIONS_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 2_000 },
      removeOnComplete: true,
      removeOnFail: { age: 86_400 },
    },
  });
  // The request connection: a report from the engine fails fast instead of blocking on a dead Redis.
  const incidentBoard = new IncidentBoard({
    redis,
    prefix: `${prefix}:`,
    client: slackClient,
    runs: (ref) => runs.incidentRuns(ref),
    enqueue: async (ref, delayMs) => {
      await notificationQueue.add(INCIDENT_BOARD_JOB, { ref }, { delay: delayMs });
    },
    logger: logger.child({ component: 'incident-board' }),
  });
  // Queued work answers a 429 by deferring its job (Retry-After), never by holding a worker slot.
  const queuedSlackClient = createWebClient({
    token: env.SLACK_BOT_TOKEN,
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    logger,
    rejectRateLimitedCalls: true,
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
  const maintenanceQueue = new Queue(MAINTENANCE_QUEUE, {
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
  const engine = new RotationEngine({
    runs,
    catalog,
    store,
    issuerFor,
    deployer,
    health: new ConsumerHealth(new HttpHealthChecker(), new PodLogChecker(kubeConfig)),
    audit,
    chat,
    clock,
    logger: logger.child({ component: 'engine' }),
    settings,
    incidents,
    confirmations,
    assess: async (run) => {
      await maintenanceQueue.add(ASSESS_JOB, { runId: run.id }, { jobId: `assess-${run.id}` });
    },
    scheduleOldKeyDeletion: async (run, delayMs) => {
      await maintenanceQueue.add(
        DELETE_OLD_KEY_JOB,
        { runId: run.id },
        { jobId: deleteOldKeyJobId(run.id), delay: delayMs },
      );
    },
  });
  const approvalQueue = new Queue<ApprovalExpiryJobData>(APPROVALS_QUEUE, {
    connection: redis,
    prefix,
    defaultJobOptions: {
      attempts: 5,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { age: 86_400 },
      removeOnFail: { age: 7 * 86_400 },
    },
  });
  const reconciler = new Reconciler({
    catalog,
    store,
    runs,
    issuerFor,
    audit,
    clock,
    logger: logger.child({ component: 'reconciler' }),
  });
  const requestAudit = new RedisAuditLog(redis, `${prefix}:audit`, logger.child({ component: 'audit' }), () =>
    clock.now(),
  );
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
    issuerFor,
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
    incidentBoard,
    outbox,
    runProgress,
    incidents,
    reconciler,
    runs,
    store,
    issuerFor,
    audit,
    requestAudit,
    slackClient,
    chat,
    engine,
    service,
    settings,
    close: async () => {
      deployer.close();
      await kubeConfig.destroyAgents();
      await queue.close();
      await approvalQueue.close();
      await maintenanceQueue.close();
      await notificationQueue.close();
      redis.disconnect();
      workerRedis.disconnect();
      limiter.close();
    },
  };
}
