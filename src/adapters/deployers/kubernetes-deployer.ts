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
  type V1DeploymentList,
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
import { ExternalSecretSync } from './external-secret-sync';
import { ListedDeployments, RESTARTED_AT, restartedAtOf } from './listed-deployments';
import { once } from './kube-error';
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

/** RFC3339 in UTC with second precision, as kubectl writes restartedAt. */
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const isConflict = (e: unknown) => isRotatorError(e) && e.context.status === 409;

/**
 * The Deployer port on the Kubernetes API: ExternalSecret sync, rollout restart and status (read
 * from a watch while one runs), discovery.
 */
export class KubernetesDeployer implements Deployer, SecretReferences {
  private readonly apps: AppsV1Api;
  private readonly watcher: RolloutWatcher;
  private readonly core: CoreV1Api;
  private readonly fieldManager: string;
  private readonly retry: RetryOptions;
  private readonly options: ConfigurationOptions;
  /** What discovery listed: restart's precondition and the log check's pod selectors. */
  private readonly listed = new ListedDeployments();
  private readonly externalSecrets: ExternalSecretSync;
  /** A namespace's list in flight, which discoveries of it meanwhile share. */
  private readonly listing = new Map<string, Promise<V1Deployment[]>>();

  constructor(kc: KubeConfig, opts: KubernetesDeployerOptions = {}) {
    this.apps = kc.makeApiClient(AppsV1Api);
    this.core = kc.makeApiClient(CoreV1Api);
    this.fieldManager = opts.fieldManager ?? 'credential-rotator';
    this.retry = {
      ...DEFAULT_RETRY,
      retryable: (e) => isRotatorError(e) && e.transient,
      ...opts.retry,
    };
    this.options = requestTimeout(opts.timeoutMs ?? 10_000);
    this.externalSecrets = new ExternalSecretSync({
      custom: kc.makeApiClient(CustomObjectsApi),
      core: this.core,
      fieldManager: this.fieldManager,
      options: this.options,
      retry: this.retry,
    });
    this.watcher = new RolloutWatcher(new Watch(kc), {
      ...(opts.watchTimeoutSeconds ? { timeoutSeconds: opts.watchTimeoutSeconds } : {}),
      ...(opts.watchBackoffMs !== undefined ? { failureBackoffMs: opts.watchBackoffMs } : {}),
      ...(opts.onWatchError ? { onError: opts.onWatchError } : {}),
    });
  }

  /** Annotates the ExternalSecret force-sync (see ExternalSecretSync). */
  forceSync(namespace: string, externalSecret: string, at: Date, opts?: { mayHaveLanded?: boolean }) {
    return this.externalSecrets.forceSync(namespace, externalSecret, at, opts);
  }

  /** Whether the ExternalSecret's target Secret holds the value (see ExternalSecretSync). */
  synced(namespace: string, externalSecret: string, since: Date, expectedDigest?: string) {
    return this.externalSecrets.synced(namespace, externalSecret, since, expectedDigest);
  }

  /**
   * kubectl rollout restart: strategic-merge patch of the pod template's restartedAt annotation.
   * kubectl reads the deployment first to refuse a paused one; a deployment discovery listed a
   * moment ago, not paused, is patched at once with that resourceVersion as a precondition, which
   * the server refuses (409) if anything changed since. Then it is read, as kubectl does.
   */
  async restart(ref: KubernetesRef, at: Date): Promise<void> {
    const what = `deployment ${ref.namespace}/${ref.deployment}`;
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
    const listed = this.listed.take(ref);
    if (listed && !listed.paused && listed.restartedAt !== stamp) {
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
      return once('restart', what, patch());
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
   * Deployments whose pod template uses the Secret `secretName`: in the given namespaces only and
   * matching the label selector when the scope has one, else in every namespace. A namespace the
   * rollout watch holds whole (see RolloutWatcher.deployments) is read from it; any other is listed
   * (and the list lets the watch hold it whole from then on).
   */
  async discover(secretName: string, scope: DiscoveryScope = {}): Promise<DiscoveredConsumer[]> {
    const selector = scope.labelSelector ? { labelSelector: scope.labelSelector } : {};
    const lists: (() => Promise<V1Deployment[]>)[] =
      scope.namespaces && scope.namespaces.length > 0
        ? [...new Set(scope.namespaces)]
            .sort()
            .map((namespace) =>
              scope.labelSelector
                ? () =>
                    this.listAll(`deployments in namespace ${namespace}`, (page) =>
                      this.apps.listNamespacedDeployment({ namespace, ...selector, ...page }, this.options),
                    ).then((l) => l.items)
                : () => this.namespaceDeployments(namespace),
            )
        : [
            () =>
              this.listAll('deployments in all namespaces', (page) =>
                this.apps.listDeploymentForAllNamespaces({ ...selector, ...page }, this.options),
              ).then((l) => l.items),
          ];
    const found: DiscoveredConsumer[] = [];
    for (const list of lists) {
      for (const d of await list()) {
        const via = secretReferences(d, secretName);
        if (via.length === 0) continue;
        found.push({ namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '', via });
        this.listed.remember(d);
      }
    }
    return found;
  }

  /**
   * Every deployment of a namespace: from the watch when it holds them all, else one list (shared by
   * the discoveries that ask meanwhile), which the watch then starts from.
   */
  private namespaceDeployments(namespace: string): Promise<V1Deployment[]> {
    const watched = this.watcher.deployments(namespace);
    if (watched) return Promise.resolve(watched);
    let pending = this.listing.get(namespace);
    if (!pending) {
      pending = this.listAll(`deployments in namespace ${namespace}`, (page) =>
        this.apps.listNamespacedDeployment({ namespace, ...page }, this.options),
      )
        .then(({ items, resourceVersion }) => {
          this.watcher.listed(namespace, items, resourceVersion);
          return items;
        })
        .finally(() => this.listing.delete(namespace));
      this.listing.set(namespace, pending);
    }
    return pending;
  }

  /** Every page of a list; the resourceVersion is the first page's (the pages are one snapshot). */
  private async listAll(
    what: string,
    list: (page: { limit: number; _continue?: string }) => Promise<V1DeploymentList>,
  ): Promise<{ items: V1Deployment[]; resourceVersion: string | undefined }> {
    const items: V1Deployment[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    do {
      const token = continueToken;
      const page = await this.call('list', what, () =>
        list({ limit: 500, ...(token ? { _continue: token } : {}) }),
      );
      resourceVersion ??= page.metadata?.resourceVersion;
      items.push(...page.items);
      continueToken = page.metadata?._continue || undefined;
    } while (continueToken);
    return { items, resourceVersion };
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
    return this.listed.selectorOf(ref);
  }

  /** Stops the rollout watches (graceful shutdown). */
  close(): void {
    this.watcher.close();
  }

  private async readDeployment(ref: KubernetesRef, action: string, retries?: 'once'): Promise<V1Deployment> {
    const what = `deployment ${ref.namespace}/${ref.deployment}`;
    const read = () =>
      this.apps.readNamespacedDeployment({ namespace: ref.namespace, name: ref.deployment }, this.options);
    const d = await (retries === 'once' ? once(action, what, read) : this.call(action, what, read));
    this.watcher.seen(d);
    return d;
  }

  private contentType(strategy: PatchStrategy): ConfigurationOptions {
    return setHeaderOptions('Content-Type', strategy, this.options);
  }

  private call<T>(action: string, what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(() => once(action, what, fn), this.retry);
  }
}
