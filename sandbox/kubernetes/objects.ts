import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { isObject, type Json, type JsonObject } from './patch';

export type SecretVia = 'env' | 'envFrom' | 'volume';

export interface DeploymentDef {
  namespace: string;
  name: string;
  replicas?: number;
  secretRefs: Array<{ secret: string; key?: string; via: SecretVia }>;
  paused?: boolean;
  progressDeadlineSeconds?: number;
}

export interface ExternalSecretDef {
  target: string;
  data: Array<{ secretKey: string; remoteRef: { key: string; property: string } }>;
  /** Last refresh before the test starts; defaults to a minute ago (ESO refreshes hourly). */
  refreshTime?: Date;
}

/** RFC3339 with second precision, as Kubernetes serialises metav1.Time. */
export function rfc3339(d: Date): string {
  return new Date(Math.floor(d.getTime() / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

export function objectMeta(namespace: string, name: string, resourceVersion: number): JsonObject {
  return {
    name,
    namespace,
    uid: randomUUID(),
    resourceVersion: String(resourceVersion),
    creationTimestamp: rfc3339(new Date()),
  };
}

function envName(secret: string, key: string): string {
  return `${secret}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function buildDeployment(def: DeploymentDef, resourceVersion: number): JsonObject {
  const replicas = def.replicas ?? 1;
  const env: Json[] = [];
  const envFrom: Json[] = [];
  const volumes: Json[] = [];
  const mounts: Json[] = [];
  def.secretRefs.forEach((ref, i) => {
    if (ref.via === 'env') {
      const key = ref.key ?? 'api_key';
      env.push({ name: envName(ref.secret, key), valueFrom: { secretKeyRef: { name: ref.secret, key } } });
    } else if (ref.via === 'envFrom') {
      envFrom.push({ secretRef: { name: ref.secret } });
    } else {
      volumes.push({ name: `secret-${i}`, secret: { secretName: ref.secret } });
      mounts.push({ name: `secret-${i}`, mountPath: `/etc/secrets/${ref.secret}`, readOnly: true });
    }
  });
  const labels = { app: def.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { ...objectMeta(def.namespace, def.name, resourceVersion), generation: 1, labels },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      paused: def.paused ?? false,
      progressDeadlineSeconds: def.progressDeadlineSeconds ?? 600,
      template: {
        metadata: { labels },
        spec: {
          containers: [
            { name: def.name, image: `example/${def.name}:1`, env, envFrom, volumeMounts: mounts },
          ],
          volumes,
        },
      },
    },
    // Filled in by completeRollout when the cluster adds it: a deployment starts fully rolled out.
    status: {},
  };
}

export function condition(type: string, status: string, reason: string, message: string): JsonObject {
  const now = rfc3339(new Date());
  return { type, status, reason, message, lastUpdateTime: now, lastTransitionTime: now };
}

export function buildSecret(
  namespace: string,
  name: string,
  data: Record<string, string>,
  resourceVersion: number,
): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: objectMeta(namespace, name, resourceVersion),
    type: 'Opaque',
    data: encodeData(data),
  };
}

export function encodeData(data: Record<string, string>): JsonObject {
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]),
  );
}

export function decodeData(secret: JsonObject | undefined): Record<string, string> | undefined {
  if (!secret) return undefined;
  const data = isObject(secret.data) ? secret.data : {};
  return Object.fromEntries(
    Object.entries(data).map(([k, v]) => [k, Buffer.from(String(v), 'base64').toString('utf8')]),
  );
}

export function buildExternalSecret(
  namespace: string,
  name: string,
  def: ExternalSecretDef,
  resourceVersion: number,
): JsonObject {
  const refreshed = def.refreshTime ?? new Date(Date.now() - 60_000);
  return {
    apiVersion: 'external-secrets.io/v1',
    kind: 'ExternalSecret',
    metadata: { ...objectMeta(namespace, name, resourceVersion), generation: 1, annotations: {} },
    spec: {
      refreshInterval: '1h',
      secretStoreRef: { name: 'vault-backend', kind: 'ClusterSecretStore' },
      target: { name: def.target, creationPolicy: 'Owner' },
      data: def.data.map((d) => ({ secretKey: d.secretKey, remoteRef: { ...d.remoteRef } })),
    },
    status: {
      refreshTime: rfc3339(refreshed),
      conditions: [esCondition('True', 'SecretSynced', 'secret synced')],
    },
  };
}

export function esCondition(status: string, reason: string, message: string): JsonObject {
  return { type: 'Ready', status, reason, message, lastTransitionTime: rfc3339(new Date()) };
}

/** Names of the Secrets a pod template uses, found the way the kubelet would: env, envFrom, volumes. */
export function referencedSecrets(node: Json | undefined, into = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => referencedSecrets(n, into));
  else if (isObject(node)) {
    for (const [k, v] of Object.entries(node)) {
      if ((k === 'secretKeyRef' || k === 'secretRef') && isObject(v) && typeof v.name === 'string')
        into.add(v.name);
      else if (k === 'secret' && isObject(v) && typeof v.secretName === 'string') into.add(v.secretName);
      else referencedSecrets(v, into);
    }
  }
  return into;
}

/** The pod-template-hash label: the ReplicaSet a template's pods belong to (a short, stable digest). */
export function templateHash(template: Json | undefined): string {
  const digest = createHash('sha256')
    .update(JSON.stringify(template ?? {}))
    .digest();
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...digest.subarray(0, 10)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Five characters of the same alphabet, as the ReplicaSet controller names its pods. */
export function podSuffix(): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join('');
}

export interface PodDef {
  deployment: JsonObject;
  hash: string;
  name: string;
  /** A Secret the pod needs does not exist yet: the kubelet reports CreateContainerConfigError. */
  missingSecret?: string;
  /** The container runs but never passes its readiness probe (a failed rollout). */
  unready?: boolean;
}

/** A pod of a deployment's ReplicaSet, with the status the kubelet would report. */
export function buildPod(def: PodDef): JsonObject {
  const dMeta = isObject(def.deployment.metadata) ? def.deployment.metadata : {};
  const spec = isObject(def.deployment.spec) ? def.deployment.spec : {};
  const template = isObject(spec.template) ? spec.template : {};
  const tMeta = isObject(template.metadata) ? template.metadata : {};
  const podSpec = isObject(template.spec) ? structuredClone(template.spec) : {};
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers.filter(isObject) : [];
  const now = rfc3339(new Date());
  const ready = !def.missingSecret && !def.unready;
  const namespace = String(dMeta.namespace);
  const state: JsonObject = def.missingSecret
    ? {
        waiting: { reason: 'CreateContainerConfigError', message: `secret "${def.missingSecret}" not found` },
      }
    : { running: { startedAt: now } };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...objectMeta(namespace, def.name, 0),
      labels: { ...(isObject(tMeta.labels) ? tMeta.labels : {}), 'pod-template-hash': def.hash },
      ...(isObject(tMeta.annotations) ? { annotations: structuredClone(tMeta.annotations) } : {}),
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: `${String(dMeta.name)}-${def.hash}`,
          uid: randomUUID(),
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: { ...podSpec, nodeName: 'sandbox-node', restartPolicy: 'Always' },
    status: {
      phase: def.missingSecret ? 'Pending' : 'Running',
      conditions: [
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: now },
        { type: 'ContainersReady', status: ready ? 'True' : 'False', lastTransitionTime: now },
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
      ],
      hostIP: '10.0.0.1',
      podIP: `10.244.0.${1 + ((randomBytes(1)[0] ?? 0) % 250)}`,
      startTime: now,
      containerStatuses: containers.map((c) => ({
        name: String(c.name),
        image: String(c.image),
        imageID: '',
        ready,
        restartCount: 0,
        started: !def.missingSecret,
        state,
      })),
    },
  };
}
