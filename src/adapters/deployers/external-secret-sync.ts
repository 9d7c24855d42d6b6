import {
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type CoreV1Api,
  type CustomObjectsApi,
} from '@kubernetes/client-node';
import { isRotatorError } from '../../domain/errors';
import { matchesDigest } from '../value-digest';
import { withRetry, type RetryOptions } from '../retry';
import { externalSecretSynced } from './external-secret-status';
import { once } from './kube-error';

const ES = { group: 'external-secrets.io', version: 'v1', plural: 'externalsecrets' } as const;

const forceSyncOf = (es: unknown): string | undefined =>
  (es as { metadata?: { annotations?: Record<string, string> } } | undefined)?.metadata?.annotations?.[
    'force-sync'
  ];

function targetName(es: unknown): string | undefined {
  if (typeof es !== 'object' || es === null) return undefined;
  const name = (es as { spec?: { target?: { name?: unknown } } }).spec?.target?.name;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

export interface ExternalSecretSyncDeps {
  custom: CustomObjectsApi;
  core: CoreV1Api;
  fieldManager: string;
  options: ConfigurationOptions;
  retry: RetryOptions;
}

/** The ExternalSecret half of the deployer: force-sync, and whether the target Secret was synced. */
export class ExternalSecretSync {
  /** namespace/ExternalSecret → its target Secret, as its force-sync answer or a read showed it. */
  private readonly targets = new Map<string, string>();

  constructor(private readonly deps: ExternalSecretSyncDeps) {}

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
      return once('force-sync', what, () =>
        this.deps.custom.patchNamespacedCustomObject(
          { ...ES, namespace, name: externalSecret, body, fieldManager: this.deps.fieldManager },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch, this.deps.options),
        ),
      );
    }, this.deps.retry);
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
        this.deps.core.readNamespacedSecret({ namespace, name }, this.deps.options),
      );
      if (secret.metadata?.name !== name) return false;
      // refreshTime has second precision: the Secret's content is what proves the sync. Only
      // digests are compared; the value never leaves this function.
      if (expectedDigest === undefined) return true;
      return Object.values(secret.data ?? {}).some((b64) =>
        matchesDigest(expectedDigest, Buffer.from(b64, 'base64')),
      );
    } catch (e) {
      if (isRotatorError(e) && e.context.status === 404) return false;
      throw e;
    }
  }

  private readExternalSecret(namespace: string, name: string): Promise<unknown> {
    return once('read', `externalsecret ${namespace}/${name}`, () =>
      this.deps.custom.getNamespacedCustomObject({ ...ES, namespace, name }, this.deps.options),
    );
  }

  private call<T>(action: string, what: string, fn: () => Promise<T>): Promise<T> {
    return withRetry(() => once(action, what, fn), this.deps.retry);
  }
}
