import { createHash } from 'node:crypto';
import {
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type ConfigurationOptions,
  type KubeConfig,
  type V1Deployment,
} from '@kubernetes/client-node';
import type { KubernetesRef } from '../../domain/credential';
import { RotatorError, isRotatorError } from '../../domain/errors';
import type {
  Deployer,
  DiscoveredConsumer,
  DiscoveryScope,
  RolloutState,
  SecretReferences,
} from '../../domain/ports';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../retry';
import { externalSecretSynced } from './external-secret-status';
import { toDeployerError } from './kube-error';
import { requestTimeout } from './request-timeout';
import { rolloutStatus } from './rollout-status';
import { RolloutWatcher } from './rollout-watcher';
import { secretReferences, secretUses } from './secret-references';

export interface KubernetesDeployerOptions {
  /** Recorded in managedFields for every patch, like kubectl's --field-manager. */
  fieldManager?: string;
  retry?: Partial<RetryOptions>;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  /** How long one watch request of rollouts lasts before it is resumed (default 30 s). */
  watchTimeoutSeconds?: number;
  /** After a rollout watch of a namespace fails, how long no new one starts (default 30 s). */
  watchBackoffMs?: number;
  /** Told when a rollout watch broke and waiters fell back to reading the deployments. */
  onWatchError?: (namespace: string, reason: string) => void;
}

const ES = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' } as const;
const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** RFC3339 in UTC with second precision, as kubectl writes restartedAt. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The Deployer port on the Kubernetes API: ExternalSecret sync, rollout restart and status (read
 * from a watch while one runs), discovery.
 */
export class KubernetesDeployer implements Deployer, SecretReferences {
  private readonly apps: AppsV1Api;
  private readonly watcher: RolloutWatcher;
  private readonly core: CoreV1Api;
  private readonly custom: CustomObjectsApi;
  private readonly fieldManager: string;
  private readonly retry: RetryOptions;
  private readonly options: ConfigurationOptions;

  constructor(kc: KubeConfig, opts: KubernetesDeployerOptions = {}) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.fieldManager = opts.fieldManager ?? 'credential-rotator';
    this.retry = {
      ...DEFAULT_RETRY,
      retryable: (e) => isRotatorError(e) && e.transient,
      ...opts.retry,
    };
    this.options = requestTimeout(opts.timeoutMs ?? 10_000);
    this.watcher = new RolloutWatcher(new Watch(kc), {
      ...(opts.watchTimeoutSeconds ? { timeoutSeconds: opts.watchTimeoutSeconds } : {}),
      ...(opts.watchBackoffMs !== undefined ? { failureBackoffMs: opts.watchBackoffMs } : {}),
      ...(opts.onWatchError ? { onError: opts.onWatchError } : {}),
    });
  }

  /**
   * Annotates the ExternalSecret force-sync=<unix milliseconds> (merge patch: CRs refuse strategic
   * merge). Milliseconds, not kubectl's seconds: two syncs in one second (a rollback right after the
   * rotation's own sync) must still change the annotation, or the operator never refreshes.
   */
  async forceSync(namespace: string, externalSecret: string, at: Date): Promise<void> {
    const body = { metadata: { annotations: { 'force-sync': String(at.getTime()) } } };
    await this.call('force-sync', `externalsecret ${namespace}/${externalSecret}`, () =>
      this.custom.patchNamespacedCustomObject(
        { ...ES, namespace, name: externalSecret, body, fieldManager: this.fieldManager },
        this.contentType(PatchStrategy.MergePatch),
      ),
    );
  }

  /** True once status.refreshTime >= `since` (to the second), Ready=True and the target Secret exists. */
  async synced(
    namespace: string,
    externalSecret: string,
    since: Date,
    expectedDigest?: string,
  ): Promise<boolean> {
    const what = `externalsecret ${namespace}/${externalSecret}`;
    const es: unknown = await this.call('read', what, () =>
      this.custom.getNamespacedCustomObject({ ...ES, namespace, name: externalSecret }, this.options),
    );
    if (!externalSecretSynced(es, since)) return false;
    const target = targetName(es) ?? externalSecret;
    // Only the metadata is looked at: the value stays in the cluster. Not there yet = not synced.
    try {
      const secret = await this.call('read', `secret ${namespace}/${target}`, () =>
        this.core.readNamespacedSecret({ namespace, name: target }, this.options),
      );
      if (secret.metadata?.name !== target) return false;
      // refreshTime has second precision: the Secret's content is what proves the sync. Only
      // digests are compared; the value never leaves this function.
      if (expectedDigest === undefined) return true;
      return Object.values(secret.data ?? {}).some(
        (b64) => createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex') === expectedDigest,
      );
    } catch (e) {
      if (isRotatorError(e) && e.context.status === 404) return false;
      throw e;
    }
  }

  /** kubectl rollout restart: strategic-merge patch of the pod template's restartedAt annotation. */
  async restart(ref: KubernetesRef, at: Date): Promise<void> {
    const what = `deployment ${ref.namespace}/${ref.deployment}`;
    const current = await this.readDeployment(ref, 'restart');
    // kubectl refuses client-side too; the server would accept the patch and never roll out.
    if (current.spec?.paused) {
      throw new RotatorError(
        'deploy_failed',
        `cannot restart paused ${what} (run kubectl rollout resume first)`,
        {
          context: { action: 'restart', target: what },
        },
      );
    }
    const body = { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: rfc3339(at) } } } } };
    const patched = await this.call('restart', what, () =>
      this.apps.patchNamespacedDeployment(
        { namespace: ref.namespace, name: ref.deployment, body, fieldManager: this.fieldManager },
        this.contentType(PatchStrategy.StrategicMergePatch),
      ),
    );
    this.watcher.seen(patched);
  }

  /** kubectl rollout status, one look: at what the running watch shows, else read. */
  async rolloutStatus(ref: KubernetesRef): Promise<RolloutState> {
    return rolloutStatus(
      this.watcher.current(ref) ?? (await this.readDeployment(ref, 'read rollout status of')),
    );
  }

  /** Resolves true as soon as a watch shows every rollout finished or one failed; false if it cannot tell. */
  rolloutsSettled(refs: KubernetesRef[], maxMs: number): Promise<boolean> {
    return this.watcher.settled(refs, maxMs);
  }

  /**
   * Deployments whose pod template uses the Secret `secretName`: in the given namespaces only (one
   * list each) and matching the label selector when the scope has one, else in every namespace.
   */
  async discover(secretName: string, scope: DiscoveryScope = {}): Promise<DiscoveredConsumer[]> {
    const selector = scope.labelSelector ? { labelSelector: scope.labelSelector } : {};
    const lists =
      scope.namespaces && scope.namespaces.length > 0
        ? [...new Set(scope.namespaces)]
            .sort()
            .map(
              (namespace) => (page: { limit: number; _continue?: string }) =>
                this.call('list', `deployments in namespace ${namespace}`, () =>
                  this.apps.listNamespacedDeployment({ namespace, ...selector, ...page }, this.options),
                ),
            )
        : [
            (page: { limit: number; _continue?: string }) =>
              this.call('list', 'deployments in all namespaces', () =>
                this.apps.listDeploymentForAllNamespaces({ ...selector, ...page }, this.options),
              ),
          ];
    const found: DiscoveredConsumer[] = [];
    for (const list of lists) {
      let continueToken: string | undefined;
      do {
        const page = await list({ limit: 500, ...(continueToken ? { _continue: continueToken } : {}) });
        for (const d of page.items) {
          const via = secretReferences(d, secretName);
          if (via.length > 0)
            found.push({ namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '', via });
        }
        continueToken = page.metadata?._continue || undefined;
      } while (continueToken);
    }
    return found;
  }

  /** Per Secret name, the deployments using it: one paged list of every namespace's deployments. */
  async references(secretNames: string[]): Promise<Map<string, DiscoveredConsumer[]>> {
    const found = new Map(secretNames.map((n): [string, DiscoveredConsumer[]] => [n, []]));
    let continueToken: string | undefined;
    do {
      const token = continueToken;
      const page = await this.call('list', 'deployments in all namespaces', () =>
        this.apps.listDeploymentForAllNamespaces(
          { limit: 500, ...(token ? { _continue: token } : {}) },
          this.options,
        ),
      );
      for (const d of page.items) {
        for (const [secret, via] of secretUses(d)) {
          found
            .get(secret)
            ?.push({ namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '', via });
        }
      }
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    return found;
  }

  /** Stops the rollout watches (graceful shutdown). */
  close(): void {
    this.watcher.close();
  }

  private async readDeployment(ref: KubernetesRef, action: string): Promise<V1Deployment> {
    const d = await this.call(action, `deployment ${ref.namespace}/${ref.deployment}`, () =>
      this.apps.readNamespacedDeployment({ namespace: ref.namespace, name: ref.deployment }, this.options),
    );
    this.watcher.seen(d);
    return d;
  }

  private contentType(strategy: PatchStrategy): ConfigurationOptions {
    return setHeaderOptions('Content-Type', strategy, this.options);
  }

  private call<T>(action: string, what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(async () => {
      try {
        return await fn();
      } catch (e) {
        throw toDeployerError(e, action, what);
      }
    }, this.retry);
  }
}

function targetName(es: unknown): string | undefined {
  if (typeof es !== 'object' || es === null) return undefined;
  const name = (es as { spec?: { target?: { name?: unknown } } }).spec?.target?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
