import { randomUUID } from 'node:crypto';
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
