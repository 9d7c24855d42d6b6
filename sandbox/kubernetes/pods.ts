import { buildPod, podSuffix, referencedSecrets } from './objects';
import { isObject, type JsonObject } from './patch';
import type { ObjectStore } from './store';

export interface LogLine {
  at: Date;
  line: string;
}

/** What a pod knows beyond its object: the Secret values it started with, and its log. */
export interface PodRuntime {
  key: string;
  deployment: string;
  hash: string;
  seq: number;
  values: Record<string, Record<string, string>>;
  log: LogLine[];
  followers: Set<(line: LogLine | undefined) => void>;
}

/** A pod that started, for the application's own start-up lines (e.g. "authentication ok"). */
export interface StartedPod {
  namespace: string;
  deployment: string;
  pod: string;
  values: Record<string, Record<string, string>>;
}

export type PodStarted = (pod: StartedPod) => string[];

const MAX_LOG_LINES = 5_000;
const meta = (o: JsonObject): JsonObject => (isObject(o.metadata) ? o.metadata : {});

/**
 * The kubelet's part: pods of a deployment's ReplicaSets, the Secret values each container started
 * with (env-var consumers never see a later change), and each pod's log.
 */
export class Pods {
  private readonly runtime = new Map<string, PodRuntime>();
  private seq = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly secretData: (namespace: string, name: string) => Record<string, string> | undefined,
    private readonly started?: PodStarted,
  ) {}

  /** Pods of a deployment, oldest first. */
  of(deploymentKey: string): PodRuntime[] {
    return [...this.runtime.values()]
      .filter((p) => p.deployment === deploymentKey)
      .sort((a, b) => a.seq - b.seq);
  }

  get(podKey: string): PodRuntime | undefined {
    return this.runtime.get(podKey);
  }

  /** Starts one pod of the deployment's current template (ReplicaSet `hash`). */
  start(deployment: JsonObject, hash: string, opts: { unready?: boolean } = {}): PodRuntime {
    const namespace = String(meta(deployment).namespace);
    const deploymentName = String(meta(deployment).name);
    const name = `${deploymentName}-${hash}-${podSuffix()}`;
    const spec = isObject(deployment.spec) ? deployment.spec : {};
    const values: PodRuntime['values'] = {};
    let missingSecret: string | undefined;
    for (const secret of referencedSecrets(spec.template)) {
      const data = this.secretData(namespace, secret);
      if (data) values[secret] = data;
      else missingSecret ??= secret;
    }
    const key = `${namespace}/${name}`;
    const pod = buildPod({
      deployment,
      hash,
      name,
      ...(missingSecret ? { missingSecret } : {}),
      ...(opts.unready ? { unready: true } : {}),
    });
    const rt: PodRuntime = {
      key,
      deployment: `${namespace}/${deploymentName}`,
      hash,
      seq: ++this.seq,
      values,
      log: [],
      followers: new Set(),
    };
    this.runtime.set(key, rt);
    this.store.put('pods', key, pod);
    if (!missingSecret) this.announce(rt, namespace, deploymentName, name);
    return rt;
  }

  /** A referenced Secret now exists: pods waiting for it start with its data. */
  secretCreated(namespace: string, secret: string, data: Record<string, string>): void {
    for (const rt of this.runtime.values()) {
      const pod = this.store.get('pods', rt.key);
      if (!pod || meta(pod).namespace !== namespace || rt.values[secret]) continue;
      const status = isObject(pod.status) ? pod.status : {};
      if (status.phase !== 'Pending') continue;
      const template: JsonObject = isObject(pod.spec) ? { spec: pod.spec } : {};
      if (!referencedSecrets(template).has(secret)) continue;
      rt.values[secret] = data;
      const fresh = buildPod({
        deployment: { metadata: { namespace, name: rt.deployment.split('/')[1]! }, spec: { template } },
        hash: rt.hash,
        name: String(meta(pod).name),
      });
      pod.status = fresh.status ?? {};
      this.store.put('pods', rt.key, pod);
      this.announce(rt, namespace, rt.deployment.split('/')[1]!, String(meta(pod).name));
    }
  }

  stop(podKey: string): void {
    const rt = this.runtime.get(podKey);
    this.runtime.delete(podKey);
    this.store.delete('pods', podKey);
    rt?.followers.forEach((f) => f(undefined));
  }

  /** A line the application in every running pod of the deployment writes. */
  appendToDeployment(deploymentKey: string, line: string): void {
    for (const rt of this.of(deploymentKey)) this.append(rt, line);
  }

  append(rt: PodRuntime, line: string): void {
    const entry = { at: new Date(), line };
    rt.log.push(entry);
    if (rt.log.length > MAX_LOG_LINES) rt.log.splice(0, rt.log.length - MAX_LOG_LINES);
    rt.followers.forEach((f) => f(entry));
  }

  private announce(rt: PodRuntime, namespace: string, deployment: string, pod: string): void {
    this.append(rt, `level=info msg="starting ${deployment}" pod=${pod}`);
    for (const line of this.started?.({ namespace, deployment, pod, values: rt.values }) ?? []) {
      this.append(rt, line);
    }
  }
}
