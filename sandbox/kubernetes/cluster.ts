import { DeploymentController } from './deployment-controller';
import { syncExternalSecret, type ResolveRemoteRef } from './external-secrets';
import {
  buildDeployment,
  buildExternalSecret,
  buildSecret,
  decodeData,
  encodeData,
  type DeploymentDef,
  type ExternalSecretDef,
} from './objects';
import { isObject, type Json, type JsonObject } from './patch';
import { Pods, type PodStarted } from './pods';
import { ObjectStore } from './store';

export type { ResolveRemoteRef } from './external-secrets';

export interface ClusterOptions {
  rolloutDelayMs: number;
  syncDelayMs: number;
  resolveRemoteRef?: ResolveRemoteRef;
  /** The application's own start-up log lines of a pod (the sandbox world: "authentication ok"). */
  podStarted?: PodStarted;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The cluster's state (an ObjectStore every change of which a watch sees) and its controllers: the
 * deployment controller with its pods, and the external-secrets operator (refresh on annotation
 * change). Pods keep the Secret values they started with, like env-var consumers do.
 */
export class Cluster {
  readonly store = new ObjectStore();
  readonly pods: Pods;
  readonly deployments: DeploymentController;
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: ClusterOptions) {
    this.pods = new Pods(this.store, (ns, name) => this.secretData(ns, name), opts.podStarted);
    this.deployments = new DeploymentController(
      this.store,
      this.pods,
      (id, ms, fn) => this.schedule(id, ms, fn),
      opts.rolloutDelayMs,
    );
  }

  addDeployment(def: DeploymentDef): void {
    const key = keyOf(def.namespace, def.name);
    this.store.put('deployments', key, buildDeployment(def, 0));
    this.deployments.created(key);
  }

  addSecret(namespace: string, name: string, data: Record<string, string>, annotations?: JsonObject): void {
    const key = keyOf(namespace, name);
    const existing = this.store.get('secrets', key);
    if (existing) {
      existing.data = encodeData(data);
      if (annotations) {
        const meta = obj(existing.metadata);
        meta.annotations = { ...obj(meta.annotations), ...annotations };
      }
      this.store.put('secrets', key, existing);
      return;
    }
    const secret = buildSecret(namespace, name, data, 0);
    if (annotations) obj(secret.metadata).annotations = annotations;
    this.store.put('secrets', key, secret);
    this.pods.secretCreated(namespace, name, data);
  }

  addExternalSecret(namespace: string, name: string, def: ExternalSecretDef): void {
    this.store.put('externalsecrets', keyOf(namespace, name), buildExternalSecret(namespace, name, def, 0));
  }

  secretData(namespace: string, name: string): Record<string, string> | undefined {
    return decodeData(this.store.get('secrets', keyOf(namespace, name)));
  }

  podValue(namespace: string, deployment: string, secret: string, key: string): string | undefined {
    return this.pods.of(keyOf(namespace, deployment))[0]?.values[secret]?.[key];
  }

  /** Per deployment, the Secret values its oldest pod started with. */
  podSnapshots(): Record<string, Record<string, Record<string, string>>> {
    return Object.fromEntries(
      this.store.list('deployments').map(({ key }) => [key, this.pods.of(key)[0]?.values ?? {}]),
    );
  }

  /**
   * Stores an updated object (a patch or a replace): identity, generation and status kept, a spec
   * change bumps the generation, and the controllers act on what changed.
   */
  update(resource: string, key: string, next: JsonObject): JsonObject {
    const prev = this.store.get(resource, key)!;
    const prevMeta = structuredClone(obj(prev.metadata));
    const meta = this.keepIdentity(prev, next);
    const specChanged = !same(prev.spec, next.spec);
    if (specChanged && meta.generation !== undefined) meta.generation = Number(meta.generation) + 1;
    const stored: JsonObject = { ...next, metadata: meta };
    if (prev.status !== undefined) stored.status = prev.status;
    this.store.put(resource, key, stored);
    if (resource === 'deployments' && specChanged) this.deployments.specChanged(key);
    if (
      resource === 'externalsecrets' &&
      (specChanged || !same(prevMeta.annotations ?? {}, meta.annotations ?? {}))
    ) {
      this.schedule(`es:${key}`, this.opts.syncDelayMs, () => void this.refresh(key));
    }
    return stored;
  }

  deletePod(key: string): JsonObject | undefined {
    const pod = this.store.get('pods', key);
    const rt = this.pods.get(key);
    if (!pod) return undefined;
    this.pods.stop(key);
    if (rt) this.deployments.podDeleted(rt.deployment);
    return pod;
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** Updates cannot rename an object or change its uid, creation time or generation; status is a subresource. */
  private keepIdentity(prev: JsonObject, next: JsonObject): JsonObject {
    const prevMeta = obj(prev.metadata);
    const meta: JsonObject = { ...obj(next.metadata) };
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation']) {
      if (prevMeta[k] === undefined) delete meta[k];
      else meta[k] = prevMeta[k]!;
    }
    return meta;
  }

  private schedule(id: string, ms: number, fn: () => void): void {
    const existing = this.timers.get(id);
    if (existing) clearTimeout(existing);
    const timer = setTimeout(() => {
      this.timers.delete(id);
      fn();
    }, ms);
    timer.unref();
    this.timers.set(id, timer);
  }

  private refresh(key: string): Promise<void> {
    return syncExternalSecret(
      {
        current: () => this.store.get('externalsecrets', key),
        save: (es) => this.store.put('externalsecrets', key, es),
        secretData: (ns, name) => this.secretData(ns, name),
        writeSecret: (ns, name, data, annotations) => this.addSecret(ns, name, data, annotations),
      },
      this.opts.resolveRemoteRef,
    );
  }
}
