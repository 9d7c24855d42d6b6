import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { RedisAuditLog } from './adapters/audit/redis-audit-log';
import type { WebClient } from '@slack/web-api';
import { createWebClient, SlackNotifier } from './adapters/chat/slack-notifier';
import { kubeConfigFrom } from './adapters/deployers/kubeconfig';
import { KubernetesDeployer } from './adapters/deployers/kubernetes-deployer';
import { HttpSecretIssuer } from './adapters/issuers/http-secret-issuer';
import { ManualIssuer } from './adapters/issuers/manual-issuer';
import { RestApiKeyIssuer } from './adapters/issuers/rest-api-key-issuer';
import { VaultSecretStore } from './adapters/store/vault-store';
import { ConsumerHealth } from './adapters/verifiers/consumer-health';
import { HttpHealthChecker } from './adapters/verifiers/http-health-checker';
import { PodLogChecker } from './adapters/verifiers/pod-log-checker';
import type { Config } from './config';
import type { CredentialSpec, IssuerSpec } from './domain/credential';
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
  INCIDENT_BOARD_JOB,
  MAINTENANCE_QUEUE,
  NOTIFICATIONS_QUEUE,
  ROTATIONS_QUEUE,
  type ApprovalExpiryJobData,
  type IncidentBoardJobData,
  type RotationJobData,
} from './queue/names';
import { IssuerLimiter, LimitedIssuer } from './queue/issuer-limiter';
import { RunStore } from './queue/run-store';
import { IncidentBoard } from './slack/incident-board';
import { createIncidentChannel } from './slack/incident-channel';
import { runViews } from './slack/views';

export interface Services {
  config: Config;
  logger: Logger;
  redis: Redis;
  workerRedis: Redis;
  queue: Queue<RotationJobData>;
  approvalQueue: Queue<ApprovalExpiryJobData>;
  /** Scheduled housekeeping: the reconciler. */
  maintenanceQueue: Queue;
  /** Slack notifications paced across replicas: incident message renders. */
  notificationQueue: Queue<IncidentBoardJobData>;
  /** Emergency incidents' one message each (rendered by the notifications worker). */
  incidentBoard: IncidentBoard;
  /** Emergency escalations and incident records, straight to the incident channel. */
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
  close(): Promise<void>;
}

/** The adapter that speaks to a credential's issuer, by the catalog's issuer kind. */
function directIssuer(issuer: IssuerSpec): Issuer {
  switch (issuer.kind) {
    case 'rest_api_key':
      return new RestApiKeyIssuer({
        baseUrl: issuer.baseUrl,
        adminToken: issuer.adminToken,
        permissions: issuer.permissions,
      });
    case 'http_secret':
      return new HttpSecretIssuer({ spec: issuer });
    case 'manual':
      return new ManualIssuer({ spec: issuer });
  }
}

export interface WiringOverrides {
  clock?: Clock;
  chat?: ChatNotifier;
  incidents?: IncidentChannel;
  settings?: Partial<EngineSettings>;
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
  const store = new VaultSecretStore({
    endpoint: env.VAULT_ADDR,
    token: env.VAULT_TOKEN,
    mount: env.VAULT_KV_MOUNT,
  });
  const kubeConfig = kubeConfigFrom(env.KUBECONFIG ? { kubeconfigPath: env.KUBECONFIG } : {});
  const deployer = new KubernetesDeployer(kubeConfig);
  const issuers = new Map<string, Issuer>();
  const limiter = new IssuerLimiter(workerRedis, prefix);
  const issuerFor = (spec: CredentialSpec): Issuer => {
    let issuer = issuers.get(spec.name);
    if (!issuer) {
      const direct = directIssuer(spec.issuer);
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
  const notificationQueue = new Queue<IncidentBoardJobData>(NOTIFICATIONS_QUEUE, {
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
  const incidents =
    overrides.incidents ??
    createIncidentChannel({ client: slackClient, securityChannel: env.SECURITY_CHANNEL });
  const chat =
    overrides.chat ??
    new SlackNotifier({
      client: slackClient,
      views: runViews,
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
    redis,
    workerRedis,
    queue,
    approvalQueue,
    maintenanceQueue,
    notificationQueue,
    incidentBoard,
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
      await queue.close();
      await approvalQueue.close();
      await maintenanceQueue.close();
      await notificationQueue.close();
      redis.disconnect();
      workerRedis.disconnect();
    },
  };
}
