import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { stringify } from 'yaml';
import { Faults } from '../faults';
import { listen, readBody, sendJson } from '../http';
import { Cluster, type ResolveRemoteRef } from './cluster';
import { decodeData, type DeploymentDef, type ExternalSecretDef } from './objects';
import type { JsonObject } from './patch';
import { handleApi } from './routes';
import { notFound, sendStatus, statusOf } from './status';

export type { DeploymentDef, ExternalSecretDef } from './objects';

export interface KubernetesDoubleOptions {
  token: string;
  port?: number;
  /** How long the deployment controller takes to finish a rollout (default 200 ms). */
  rolloutDelayMs?: number;
  /** How long the external-secrets operator takes to refresh after an annotation change (default 20 ms). */
  syncDelayMs?: number;
  /** The operator's provider: the value at remoteRef {key, property}; undefined or a rejection = sync error. */
  resolveRemoteRef?: ResolveRemoteRef;
}

export interface KubernetesDouble {
  url: string;
  faults: Faults;
  close(): Promise<void>;
  addDeployment(d: DeploymentDef): void;
  addSecret(namespace: string, name: string, data: Record<string, string>): void;
  addExternalSecret(namespace: string, name: string, def: ExternalSecretDef): void;
  deployment(namespace: string, name: string): JsonObject | undefined;
  /** The Secret's data, decoded. */
  secret(namespace: string, name: string): Record<string, string> | undefined;
  externalSecret(namespace: string, name: string): JsonObject | undefined;
  /** The value the deployment's pods started with; changes only when a rollout completes. */
  podValue(namespace: string, deployment: string, secret: string, key: string): string | undefined;
  /** Completed rollouts of a new pod template. */
  restarts(namespace: string, name: string): number;
  /** The next rollout of this deployment ends with Progressing=False, ProgressDeadlineExceeded. */
  failNextRollout(namespace: string, name: string): void;
  /** Every authorized API request, oldest first: method, path (with query) and when it arrived. */
  requests(): Array<{ method: string; path: string; at: number }>;
  /** A kubeconfig (YAML) for the double: plain http, insecure-skip-tls-verify, bearer token. */
  kubeconfig(): string;
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A Kubernetes API server double: apps/v1 deployments, core/v1 secrets, external-secrets.io/v1. */
export async function createKubernetesDouble(opts: KubernetesDoubleOptions): Promise<KubernetesDouble> {
  const faults = new Faults();
  const cluster = new Cluster({
    rolloutDelayMs: opts.rolloutDelayMs ?? 200,
    syncDelayMs: opts.syncDelayMs ?? 20,
    ...(opts.resolveRemoteRef ? { resolveRemoteRef: opts.resolveRemoteRef } : {}),
  });

  const requests: Array<{ method: string; path: string; at: number }> = [];
  const server = await listen(async (req, res) => {
    const body = await readBody(req);
    if (await faults.control(req, res, body)) return;
    // The cluster's own state, Secret values included: behind the same token as the API.
    if ((req.url ?? '').startsWith('/_state') && authorized(req, opts.token)) {
      const secrets = [...cluster.secrets.entries()].map(([key, s]) => ({
        key,
        data: decodeData(s),
        object: s,
      }));
      sendJson(res, 200, {
        deployments: [...cluster.deployments.values()],
        secrets,
        externalSecrets: [...cluster.externalSecrets.values()],
        pods: cluster.podSnapshots(),
      });
      return;
    }
    if (await faults.apply(req, res)) return;
    if (!authorized(req, opts.token)) {
      sendStatus(res, statusOf(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', at: Date.now() });
    if (!handleApi(cluster, req, res, body)) {
      sendStatus(res, {
        ...notFound('', '', ''),
        message: 'the server could not find the requested resource',
        details: {},
      });
    }
  }, opts.port ?? 0);

  const copy = (o: JsonObject | undefined) => (o ? structuredClone(o) : undefined);
  return {
    url: server.url,
    faults,
    close: async () => {
      cluster.close();
      await server.close();
    },
    addDeployment: (d) => cluster.addDeployment(d),
    addSecret: (ns, name, data) => cluster.addSecret(ns, name, data),
    addExternalSecret: (ns, name, def) => cluster.addExternalSecret(ns, name, def),
    deployment: (ns, name) => copy(cluster.deployments.get(`${ns}/${name}`)),
    secret: (ns, name) => decodeData(cluster.secrets.get(`${ns}/${name}`)),
    externalSecret: (ns, name) => copy(cluster.externalSecrets.get(`${ns}/${name}`)),
    podValue: (ns, d, s, k) => cluster.podValue(ns, d, s, k),
    restarts: (ns, name) => cluster.restarts(ns, name),
    failNextRollout: (ns, name) => cluster.failNextRollout(ns, name),
    requests: () => [...requests],
    kubeconfig: () =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'double', cluster: { server: server.url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'credential-rotator', user: { token: opts.token } }],
        contexts: [{ name: 'double', context: { cluster: 'double', user: 'credential-rotator' } }],
        'current-context': 'double',
      }),
  };
}
