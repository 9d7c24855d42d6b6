import { isObject, type Json, type JsonObject } from './patch';
import {
  buildDeployment,
  buildExternalSecret,
  buildSecret,
  decodeData,
  encodeData,
  esCondition,
  referencedSecrets,
  rfc3339,
  type DeploymentDef,
  type ExternalSecretDef,
} from './objects';
import { completeRollout, failRollout, pauseRollout } from './rollout';

export type ResolveRemoteRef = (key: string, property: string) => Promise<string | undefined>;

export interface ClusterOptions {
  rolloutDelayMs: number;
  syncDelayMs: number;
  resolveRemoteRef?: ResolveRemoteRef;
}

const keyOf = (namespace: string, name: string) => `${namespace}/${name}`;
const obj = (v: Json | undefined): JsonObject => (isObject(v) ? v : {});
const same = (a: Json | undefined, b: Json | undefined) => JSON.stringify(a) === JSON.stringify(b);

/**
 * The cluster's state and its controllers: the deployment controller (rollouts after a delay) and
 * the external-secrets operator (refresh on annotation change). "Pods" keep the Secret values they
 * started with, like env-var consumers do.
 */
export class Cluster {
  readonly deployments = new Map<string, JsonObject>();
  readonly secrets = new Map<string, JsonObject>();
  readonly externalSecrets = new Map<string, JsonObject>();
  private readonly pods = new Map<string, Record<string, Record<string, string>>>();
  private readonly restartCount = new Map<string, number>();
  private readonly newTemplate = new Set<string>();
  private readonly failNext = new Set<string>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private rv = 1;

  constructor(private readonly opts: ClusterOptions) {}

  nextResourceVersion(): string {
    this.rv += 1;
    return String(this.rv);
  }

  addDeployment(def: DeploymentDef): void {
    const key = keyOf(def.namespace, def.name);
    const deployment = buildDeployment(def, ++this.rv);
    completeRollout(deployment);
    this.deployments.set(key, deployment);
    this.pods.set(key, {});
    this.snapshotPods(key);
  }

  addSecret(namespace: string, name: string, data: Record<string, string>): void {
    const key = keyOf(namespace, name);
    const existing = this.secrets.get(key);
    if (existing) {
      existing.data = encodeData(data);
      obj(existing.metadata).resourceVersion = this.nextResourceVersion();
      return;
    }
    this.secrets.set(key, buildSecret(namespace, name, data, ++this.rv));
    this.startWaitingPods(namespace, name);
  }

  addExternalSecret(namespace: string, name: string, def: ExternalSecretDef): void {
    this.externalSecrets.set(keyOf(namespace, name), buildExternalSecret(namespace, name, def, ++this.rv));
  }

  failNextRollout(namespace: string, name: string): void {
    this.failNext.add(keyOf(namespace, name));
  }

  restarts(namespace: string, name: string): number {
    return this.restartCount.get(keyOf(namespace, name)) ?? 0;
  }

  podValue(namespace: string, deployment: string, secret: string, key: string): string | undefined {
    return this.pods.get(keyOf(namespace, deployment))?.[secret]?.[key];
  }

  podSnapshots(): Record<string, Record<string, Record<string, string>>> {
    return Object.fromEntries(this.pods);
  }

  /** Stores a patched Deployment; spec changes bump the generation and start a rollout. */
  updateDeployment(key: string, next: JsonObject): JsonObject {
    const prev = this.deployments.get(key)!;
    const meta = this.keepIdentity(prev, next);
    const stored: JsonObject = { ...next, metadata: meta, status: prev.status ?? {} };
    if (!same(prev.spec, next.spec)) {
      meta.generation = Number(meta.generation) + 1;
      if (!same(obj(prev.spec).template, obj(next.spec).template)) this.newTemplate.add(key);
      this.schedule(`deploy:${key}`, this.opts.rolloutDelayMs, () => this.progress(key));
    }
    this.deployments.set(key, stored);
    return stored;
  }

  /** Stores a patched ExternalSecret; a changed annotation (or spec) makes the operator refresh. */
  updateExternalSecret(key: string, next: JsonObject): JsonObject {
    const prev = this.externalSecrets.get(key)!;
    const prevMeta = obj(prev.metadata);
    const meta = this.keepIdentity(prev, next);
    if (!same(prev.spec, next.spec)) meta.generation = Number(meta.generation) + 1;
    const stored: JsonObject = { ...next, metadata: meta, status: prev.status ?? {} };
    this.externalSecrets.set(key, stored);
    if (!same(prevMeta.annotations, meta.annotations) || !same(prev.spec, next.spec)) {
      this.schedule(`es:${key}`, this.opts.syncDelayMs, () => void this.refresh(key));
    }
    return stored;
  }

  /** Patches cannot rename an object, change its identity, generation or status (a subresource). */
  private keepIdentity(prev: JsonObject, next: JsonObject): JsonObject {
    const prevMeta = obj(prev.metadata);
    const meta: JsonObject = { ...obj(next.metadata) };
    for (const k of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation'])
      meta[k] = prevMeta[k] ?? null;
    meta.resourceVersion = this.nextResourceVersion();
    return meta;
  }

  close(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
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

  private progress(key: string): void {
    const d = this.deployments.get(key);
    if (!d) return;
    if (obj(d.spec).paused === true) {
      pauseRollout(d, this.newTemplate.has(key));
    } else if (this.failNext.delete(key)) {
      failRollout(d);
    } else {
      completeRollout(d);
      if (this.newTemplate.delete(key)) {
        this.restartCount.set(key, this.restarts(...(key.split('/') as [string, string])) + 1);
        this.pods.set(key, {});
        this.snapshotPods(key);
      }
    }
    obj(d.metadata).resourceVersion = this.nextResourceVersion();
  }

  private snapshotPods(key: string): void {
    const d = this.deployments.get(key);
    const snapshot = this.pods.get(key);
    if (!d || !snapshot) return;
    const namespace = String(obj(d.metadata).namespace);
    for (const secret of referencedSecrets(obj(d.spec).template)) {
      const data = decodeData(this.secrets.get(keyOf(namespace, secret)));
      if (data) snapshot[secret] = data;
    }
  }

  /** Pods wait (CreateContainerConfigError) until a Secret they reference exists, then start with it. */
  private startWaitingPods(namespace: string, secret: string): void {
    for (const [key, d] of this.deployments) {
      const snapshot = this.pods.get(key);
      if (obj(d.metadata).namespace !== namespace || !snapshot || snapshot[secret]) continue;
      if (referencedSecrets(obj(d.spec).template).has(secret)) this.snapshotPods(key);
    }
  }

  private async refresh(key: string): Promise<void> {
    const es = this.externalSecrets.get(key);
    if (!es) return;
    const namespace = String(obj(es.metadata).namespace);
    const spec = obj(es.spec);
    const target = String(obj(spec.target).name ?? obj(es.metadata).name);
    const entries = Array.isArray(spec.data) ? spec.data.map(obj) : [];
    const values: Record<string, string> = {};
    let ok = this.opts.resolveRemoteRef !== undefined;
    for (const entry of entries) {
      if (!ok) break;
      const ref = obj(entry.remoteRef);
      const value = await this.opts
        .resolveRemoteRef?.(String(ref.key), String(ref.property))
        .catch(() => undefined);
      if (value === undefined) ok = false;
      else values[String(entry.secretKey)] = value;
    }
    // A patch may have replaced the object while the provider answered.
    const latest = this.externalSecrets.get(key);
    if (!latest) return;
    const status = obj(latest.status);
    if (!ok) {
      latest.status = {
        ...status,
        conditions: [esCondition('False', 'SecretSyncedError', 'could not get secret data from provider')],
      };
      return;
    }
    const current = decodeData(this.secrets.get(keyOf(namespace, target))) ?? {};
    this.addSecret(namespace, target, { ...current, ...values });
    latest.status = {
      ...status,
      refreshTime: rfc3339(new Date()),
      syncedResourceVersion: String(obj(latest.metadata).resourceVersion),
      conditions: [esCondition('True', 'SecretSynced', 'secret synced')],
    };
  }
}
