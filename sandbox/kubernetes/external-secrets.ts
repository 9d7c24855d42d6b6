import { createHash } from 'node:crypto';
import { esCondition, rfc3339 } from './objects';
import { isObject, type JsonObject } from './patch';

/**
 * The operator's provider: the value at remoteRef {key, property}. A rejection (its message says
 * why: permission denied, a deleted version) or undefined leaves the ExternalSecret SecretSyncedError.
 */
export type ResolveRemoteRef = (key: string, property: string) => Promise<string | undefined>;

const obj = (v: unknown): JsonObject => (isObject(v) ? v : {});

export interface SyncTarget {
  /** The ExternalSecret as stored now (a patch may have replaced it while the provider answered). */
  current(): JsonObject | undefined;
  /** Stores the ExternalSecret after its status changed. */
  save(es: JsonObject): void;
  secretData(namespace: string, name: string): Record<string, string> | undefined;
  writeSecret(namespace: string, name: string, data: Record<string, string>, annotations: JsonObject): void;
}

/** ESO's reconcile of one ExternalSecret: fetch every remoteRef, then write the target Secret or fail. */
export async function syncExternalSecret(target: SyncTarget, resolve: ResolveRemoteRef | undefined) {
  const es = target.current();
  if (!es) return;
  const namespace = String(obj(es.metadata).namespace);
  const spec = obj(es.spec);
  const secretName = String(obj(spec.target).name ?? obj(es.metadata).name);
  const entries = Array.isArray(spec.data) ? spec.data.map(obj) : [];
  const values: Record<string, string> = {};
  let failure: string | undefined = resolve ? undefined : 'no provider configured';
  for (const entry of entries) {
    if (failure) break;
    const ref = obj(entry.remoteRef);
    try {
      const value = await resolve!(String(ref.key), String(ref.property));
      if (value === undefined) failure = `key ${String(ref.key)} not found`;
      else values[String(entry.secretKey)] = value;
    } catch (e) {
      failure = e instanceof Error ? e.message : 'provider error';
    }
  }
  const latest = target.current();
  if (!latest) return;
  const status = obj(latest.status);
  if (failure) {
    // The target Secret keeps its data: consumers go on with the old value.
    latest.status = {
      ...status,
      conditions: [esCondition('False', 'SecretSyncedError', 'could not get secret data from provider')],
    };
    target.save(latest);
    return;
  }
  const data = { ...(target.secretData(namespace, secretName) ?? {}), ...values };
  const hash = createHash('md5').update(JSON.stringify(data)).digest('hex');
  target.writeSecret(namespace, secretName, data, { 'reconcile.external-secrets.io/data-hash': hash });
  latest.status = {
    ...status,
    refreshTime: rfc3339(new Date()),
    syncedResourceVersion: `${String(obj(latest.metadata).generation ?? 1)}-${hash}`,
    binding: { name: secretName },
    conditions: [esCondition('True', 'SecretSynced', 'secret synced')],
  };
  target.save(latest);
}
