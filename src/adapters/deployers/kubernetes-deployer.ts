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

/** How long what discovery listed may stand in for a read before a restart (a run's first minute). */
const LISTED_TTL_MS = 60_000;

/**
 * How long a listed selector stands in for reading the deployment: the run's verification, not the
 * next run's (a deployment deleted and made anew may select other pods).
 */
const SELECTOR_TTL_MS = 3_600_000;

/** A deployment as discovery listed it: what restart needs to patch it without reading it first. */
interface Listed {
  resourceVersion: string;
  paused: boolean;
  restartedAt: string | undefined;
  at: number;
}

const restartedAtOf = (d: V1Deployment): string | undefined =>
  d.spec?.template?.metadata?.annotations?.[RESTARTED_AT];
const forceSyncOf = (es: unknown): string | undefined =>
  (es as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations?.[
    'force-sync'
  ];
const isConflict = (e: unknown) => isRotatorError(e) && e.context.status === 409;

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
  /** namespace/name → what discovery listed, for restart's precondition. */
  private readonly listed = new Map<string, Listed>();
  /** namespace/name → the pod selector discovery listed (immutable in apps/v1), for the log check. */
  private readonly selectors = new Map<string, { selector: string; at: number }>();
  /** namespace/ExternalSecret → its target Secret, as its force-sync answer or a read showed it. */
  private readonly targets = new Map<string, string>();

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
   * rotation's own sync) must still change the annotation, or the operator never refreshes. Where an
   * earlier attempt may have landed, it is read first: the same annotation again changes nothing.
   */
  async forceSync(
    namespace: string,
    externalSecret: string,
    at: Date,
    opts: { mayHaveLanded?: boolean } = {},
  ): Promise<void> {
    const what = `externalsecret ${namespace}/${externalSecret}`;
    const stamp = String(at.getTime());
    const body = { metadata: { annotations: { 'force-sync': stamp } } };
    const es: unknown = await withRetry(async (attempt) => {
      if (opts.mayHaveLanded || attempt > 1) {
        const current = await this.readExternalSecret(namespace, externalSecret);
        if (forceSyncOf(current) === stamp) return current;
      }
      return this.once('force-sync', what, () =>
        this.custom.patchNamespacedCustomObject(
          { ...ES, namespace, name: externalSecret, body, fieldManager: this.fieldManager },
          this.contentType(PatchStrategy.MergePatch),
        ),
      );
    }, this.retry);
    this.targets.set(`${namespace}/${externalSecret}`, targetName(es) ?? externalSecret);
  }

  /**
   * True once the target Secret holds `expectedDigest`: its content is what proves the sync, so the
   * ExternalSecret is read only to learn its target, or when there is no digest to compare.
   * Otherwise status.refreshTime >= `since` (to the second) and Ready=True, and the Secret exists.
   */
  async synced(
    namespace: string,
    externalSecret: string,
    since: Date,
    expectedDigest?: string,
  ): Promise<boolean> {
    let target =
      expectedDigest !== undefined ? this.targets.get(`${namespace}/${externalSecret}`) : undefined;
    if (target === undefined) {
      const es = await this.readExternalSecret(namespace, externalSecret);
      if (!externalSecretSynced(es, since)) return false;
      target = targetName(es) ?? externalSecret;
    }
    const name = target;
    // Only the metadata is looked at: the value stays in the cluster. Not there yet = not synced.
    try {
      const secret = await this.call('read', `secret ${namespace}/${name}`, () =>
        this.core.readNamespacedSecret({ namespace, name }, this.options),
      );
      if (secret.metadata?.name !== name) return false;
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

  /**
   * kubectl rollout restart: strategic-merge patch of the pod template's restartedAt annotation.
   * kubectl reads the deployment first to refuse a paused one; a deployment discovery listed a
   * moment ago, not paused, is patched at once with that resourceVersion as a precondition, which
   * the server refuses (409) if anything changed since. Then it is read, as kubectl does.
   */
  async restart(ref: KubernetesRef, at: Date): Promise<void> {
    const what = `deployment ${ref.namespace}/${ref.deployment}`;
    const key = `${ref.namespace}/${ref.deployment}`;
    const stamp = rfc3339(at);
    const body = (resourceVersion?: string) => ({
      ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
      spec: { template: { metadata: { annotations: { [RESTARTED_AT]: stamp } } } },
    });
    const patch = (resourceVersion?: string) => () =>
      this.apps.patchNamespacedDeployment(
        {
          namespace: ref.namespace,
          name: ref.deployment,
          body: body(resourceVersion),
          fieldManager: this.fieldManager,
        },
        this.contentType(PatchStrategy.StrategicMergePatch),
      );
    const listed = this.listed.get(key);
    this.listed.delete(key);
    if (listed && Date.now() - listed.at < LISTED_TTL_MS && !listed.paused && listed.restartedAt !== stamp) {
      try {
        // A lost answer retried meets its own change as a conflict, and goes on to the read below.
        const patched = await this.call('restart', what, patch(listed.resourceVersion));
        this.watcher.seen(patched);
        return;
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }
    const patched = await withRetry(async () => {
      const current = await this.readDeployment(ref, 'restart', 'once');
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
      // An earlier attempt landed (its answer was lost): patching again would change nothing.
      if (restartedAtOf(current) === stamp) return current;
      return this.once('restart', what, patch());
    }, this.retry);
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
          if (via.length === 0) continue;
          found.push({ namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '', via });
          this.remember(d);
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

  /**
   * The label selector (matchLabels) of a deployment's pods as this run's discovery listed it; a
   * Deployment's selector cannot change, so the log check need not read the deployment for it.
   */
  selectorOf(ref: KubernetesRef): string | undefined {
    const known = this.selectors.get(`${ref.namespace}/${ref.deployment}`);
    return known && Date.now() - known.at < SELECTOR_TTL_MS ? known.selector : undefined;
  }

  /** Stops the rollout watches (graceful shutdown). */
  close(): void {
    this.watcher.close();
  }

  private async readDeployment(ref: KubernetesRef, action: string, retries?: 'once'): Promise<V1Deployment> {
    const what = `deployment ${ref.namespace}/${ref.deployment}`;
    const read = () =>
      this.apps.readNamespacedDeployment({ namespace: ref.namespace, name: ref.deployment }, this.options);
    const d = await (retries === 'once' ? this.once(action, what, read) : this.call(action, what, read));
    this.watcher.seen(d);
    return d;
  }

  private readExternalSecret(namespace: string, name: string): Promise<unknown> {
    return this.once('read', `externalsecret ${namespace}/${name}`, () =>
      this.custom.getNamespacedCustomObject({ ...ES, namespace, name }, this.options),
    );
  }

  /** What restart needs of a listed deployment; entries older than their use are dropped as they go. */
  private remember(d: V1Deployment): void {
    const resourceVersion = d.metadata?.resourceVersion;
    if (!resourceVersion) return;
    const now = Date.now();
    if (this.listed.size >= 1_000) {
      for (const [k, v] of this.listed) if (now - v.at >= LISTED_TTL_MS) this.listed.delete(k);
    }
    const key = `${d.metadata?.namespace ?? ''}/${d.metadata?.name ?? ''}`;
    const labels = Object.entries(d.spec?.selector?.matchLabels ?? {});
    if (this.selectors.size >= 1_000) this.selectors.clear();
    if (labels.length > 0 && !d.spec?.selector?.matchExpressions?.length)
      this.selectors.set(key, { selector: labels.map(([k, v]) => `${k}=${v}`).join(','), at: now });
    this.listed.set(key, {
      resourceVersion,
      paused: d.spec?.paused === true,
      restartedAt: restartedAtOf(d),
      at: now,
    });
  }

  private contentType(strategy: PatchStrategy): ConfigurationOptions {
    return setHeaderOptions('Content-Type', strategy, this.options);
  }

  private call<T>(action: string, what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(() => this.once(action, what, fn), this.retry);
  }

  /** One attempt, its failure as a RotatorError: for callers that decide themselves what a retry does. */
  private async once<T>(action: string, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw toDeployerError(e, action, what);
    }
  }
}

function targetName(es: unknown): string | undefined {
  if (typeof es !== 'object' || es === null) return undefined;
  const name = (es as { spec?: { target?: { name?: unknown } } }).spec?.target?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}
