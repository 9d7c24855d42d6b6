import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { kubeConfigFrom } from './adapters/deployers/kubeconfig';
import { KubernetesDeployer } from './adapters/deployers/kubernetes-deployer';
import type * as AwsIam from './adapters/issuers/aws-iam-issuer';
import type * as Databases from './adapters/issuers/database-issuer-factory';
import type * as HttpSecret from './adapters/issuers/http-secret-issuer';
import type * as Manual from './adapters/issuers/manual-issuer';
import type * as RestApiKey from './adapters/issuers/rest-api-key-issuer';
import { ConsumerHealth } from './adapters/verifiers/consumer-health';
import { HttpHealthChecker } from './adapters/verifiers/http-health-checker';
import { PodLogChecker } from './adapters/verifiers/pod-log-checker';
import type { Config } from './config';
import type { CredentialSpec } from './domain/credential';
import type {
  AuditLog,
  ChatNotifier,
  Clock,
  Deployer,
  IncidentChannel,
  Issuer,
  SecretReferences,
  SecretStore,
} from './domain/ports';
import type { EngineSettings } from './procedures/context';
import { RotationEngine } from './procedures/engine';
import { Reconciler } from './procedures/reconciler';
import { createRedis } from './queue/connection';
import { IssuerLimiter, LimitedIssuer } from './queue/issuer-limiter';
import { ManualConfirmations } from './queue/manual-confirmations';
import { ASSESS_JOB, DELETE_OLD_KEY_JOB, deleteOldKeyJobId } from './queue/names';
import type { RunStore } from './queue/run-store';

/** The adapters and procedures only a worker uses: loaded by the worker and all roles alone. */
export interface WorkerServices {
  engine: RotationEngine;
  reconciler: Reconciler;
  /** The Kubernetes deployer, which also answers the inventory's Secret references. */
  deployer: Deployer & SecretReferences;
  issuerFor: (spec: CredentialSpec) => Issuer;
  close(): Promise<void>;
}

/** What the worker side is built from: the shared services of `buildServices`. */
export interface WorkerWiring {
  config: Config;
  logger: Logger;
  clock: Clock;
  runs: RunStore;
  audit: AuditLog;
  store: SecretStore;
  chat: ChatNotifier;
  incidents: IncidentChannel;
  settings: EngineSettings;
  workerRedis: Redis;
  maintenanceQueue: Queue;
}

/* eslint-disable @typescript-eslint/no-require-imports -- loaded on first use, see directIssuer */
/**
 * The issuer adapter a catalog entry names. Each kind's module (and its client: the AWS SDK, pg,
 * mysql2) is loaded by the first credential of that kind the worker needs, so a worker whose
 * catalog has no database or AWS credential never loads their clients.
 */
function directIssuer(spec: CredentialSpec, store: SecretStore): Issuer {
  const i = spec.issuer;
  switch (i.kind) {
    case 'rest_api_key': {
      const { RestApiKeyIssuer } = require('./adapters/issuers/rest-api-key-issuer') as typeof RestApiKey;
      return new RestApiKeyIssuer({
        baseUrl: i.baseUrl,
        adminToken: i.adminToken,
        permissions: i.permissions,
      });
    }
    case 'aws_iam': {
      const { AwsIamIssuer } = require('./adapters/issuers/aws-iam-issuer') as typeof AwsIam;
      return new AwsIamIssuer({ spec: i, ...(i.endpoint ? { endpoint: i.endpoint } : {}) });
    }
    case 'http_secret': {
      const { HttpSecretIssuer } = require('./adapters/issuers/http-secret-issuer') as typeof HttpSecret;
      return new HttpSecretIssuer({ spec: i });
    }
    case 'manual': {
      const { ManualIssuer } = require('./adapters/issuers/manual-issuer') as typeof Manual;
      return new ManualIssuer({ spec: i });
    }
    default: {
      const { createDatabaseIssuer } =
        require('./adapters/issuers/database-issuer-factory') as typeof Databases;
      return createDatabaseIssuer({ ...spec, issuer: i }, store);
    }
  }
}
/* eslint-enable @typescript-eslint/no-require-imports */

export function buildWorkerServices(w: WorkerWiring): WorkerServices {
  const env = w.config.env;
  const catalog = w.config.catalog.credentials;
  const kubeConfig = kubeConfigFrom(env.KUBECONFIG ? { kubeconfigPath: env.KUBECONFIG } : {});
  const deployer = new KubernetesDeployer(kubeConfig, {
    onWatchError: (namespace, reason) =>
      w.logger.warn({ namespace, reason }, 'rollout watch broke; falling back to polling'),
  });
  const issuers = new Map<string, Issuer>();
  // A freed slot is announced on a connection of its own (subscriber mode takes one whole), opened
  // by the first call that has to wait.
  const limiter = new IssuerLimiter(w.workerRedis, env.QUEUE_PREFIX, {
    subscriber: () => createRedis(env.REDIS_URL, 'worker'),
  });
  const issuerFor = (spec: CredentialSpec): Issuer => {
    let issuer = issuers.get(spec.name);
    if (!issuer) {
      const direct = directIssuer(spec, w.store);
      const limit = spec.issuer.kind === 'manual' ? undefined : spec.issuer.maxConcurrent;
      issuer = limit ? new LimitedIssuer(direct, limiter, spec.issuer.name, limit) : direct;
      issuers.set(spec.name, issuer);
    }
    return issuer;
  };
  const engine = new RotationEngine({
    runs: w.runs,
    catalog,
    store: w.store,
    issuerFor,
    deployer,
    health: new ConsumerHealth(
      new HttpHealthChecker(),
      new PodLogChecker(kubeConfig, { selectors: deployer }),
    ),
    audit: w.audit,
    chat: w.chat,
    clock: w.clock,
    logger: w.logger.child({ component: 'engine' }),
    settings: w.settings,
    incidents: w.incidents,
    confirmations: new ManualConfirmations(w.workerRedis, env.QUEUE_PREFIX),
    assess: async (run) => {
      await w.maintenanceQueue.add(ASSESS_JOB, { runId: run.id }, { jobId: `assess-${run.id}` });
    },
    scheduleOldKeyDeletion: async (run, delayMs) => {
      await w.maintenanceQueue.add(
        DELETE_OLD_KEY_JOB,
        { runId: run.id },
        { jobId: deleteOldKeyJobId(run.id), delay: delayMs },
      );
    },
  });
  const reconciler = new Reconciler({
    catalog,
    store: w.store,
    runs: w.runs,
    issuerFor,
    audit: w.audit,
    clock: w.clock,
    logger: w.logger.child({ component: 'reconciler' }),
  });
  return {
    engine,
    reconciler,
    deployer,
    issuerFor,
    close: async () => {
      deployer.close();
      await kubeConfig.destroyAgents();
      limiter.close();
    },
  };
}
