import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { kubeConfigFrom } from './adapters/deployers/kubeconfig';
import { KubernetesDeployer } from './adapters/deployers/kubernetes-deployer';
import { RestApiKeyIssuer } from './adapters/issuers/rest-api-key-issuer';
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
  SecretStore,
} from './domain/ports';
import type { EngineSettings } from './procedures/context';
import { RotationEngine } from './procedures/engine';
import { Reconciler } from './procedures/reconciler';
import { createRedis } from './queue/connection';
import { IssuerLimiter, LimitedIssuer } from './queue/issuer-limiter';
import { ASSESS_JOB } from './queue/names';
import type { RunStore } from './queue/run-store';

/** The adapters and procedures only a worker uses: loaded by the worker and all roles alone. */
export interface WorkerServices {
  engine: RotationEngine;
  reconciler: Reconciler;
  deployer: Deployer;
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
      const direct = new RestApiKeyIssuer({
        baseUrl: spec.issuer.baseUrl,
        adminToken: spec.issuer.adminToken,
        permissions: spec.issuer.permissions,
      });
      const limit = spec.issuer.maxConcurrent;
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
    health: new ConsumerHealth(new HttpHealthChecker(), new PodLogChecker(kubeConfig)),
    audit: w.audit,
    chat: w.chat,
    clock: w.clock,
    logger: w.logger.child({ component: 'engine' }),
    settings: w.settings,
    incidents: w.incidents,
    assess: async (run) => {
      await w.maintenanceQueue.add(ASSESS_JOB, { runId: run.id }, { jobId: `assess-${run.id}` });
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
