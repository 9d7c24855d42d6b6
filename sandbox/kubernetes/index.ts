import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { stringify } from 'yaml';
import { Faults } from '../faults';
import { listen, readBody, sendJson } from '../http';
import { sandboxTls } from '../tls';
import { Cluster, type ResolveRemoteRef } from './cluster';
import { decodeData, type DeploymentDef, type ExternalSecretDef } from './objects';
import type { JsonObject } from './patch';
import type { PodStarted } from './pods';
import { handleApi } from './routes';
import { notFound, sendStatus, statusOf } from './status';

export type { DeploymentDef, ExternalSecretDef } from './objects';
export type { PodStarted, StartedPod } from './pods';
export type { ResolveRemoteRef } from './cluster';

export interface KubernetesDoubleOptions {
  token: string;
  port?: number;
  /** How long the deployment controller takes to finish a rollout (default 200 ms). */
  rolloutDelayMs?: number;
  /** How long the external-secrets operator takes to refresh after an annotation change (default 20 ms). */
  syncDelayMs?: number;
  /** The operator's provider: the value at remoteRef {key, property}; undefined or a rejection = sync error. */
  resolveRemoteRef?: ResolveRemoteRef;
  /** The application's start-up log lines of each new pod (e.g. whether its credential authenticates). */
  podStarted?: PodStarted;
}

export interface KubernetesDouble {
  /** https://127.0.0.1:<port>, served with a certificate signed by `caPem`. */
  url: string;
  /** The CA (PEM) that signed the server's certificate: what a client must trust. */
  caPem: string;
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
  /**
   * Every authorized API request, oldest first: method, path (with query), when it arrived, and
   * the number of the TLS connection it came on (1 for the first connection accepted).
   */
  requests(): KubeRequest[];
  /** How many TLS connections clients have opened to the double since it started. */
  connections(): number;
  /** A line the application writes in every running pod of the deployment (`kubectl logs` shows it). */
  appendLog(namespace: string, deployment: string, line: string): void;
  /** Names of the deployment's pods, oldest first. */
  pods(namespace: string, deployment: string): string[];
  /**
   * A kubeconfig (YAML) for the double: its CA as certificate-authority-data, a bearer token, and
   * the context's default namespace when given (the runbook's commands name no namespace).
   */
  kubeconfig(namespace?: string): string;
}

export interface KubeRequest {
  method: string;
  path: string;
  at: number;
  connection: number;
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  if (!header.startsWith('Bearer ')) return false;
  const given = Buffer.from(header.slice('Bearer '.length));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * A Kubernetes API server double over HTTPS: discovery, apps/v1 deployments, core/v1 pods (with logs)
 * and secrets, external-secrets.io ExternalSecrets (v1 and v1beta1); lists with selectors and paging,
 * watches, strategic merge / merge / JSON patches, conflicts and validation.
 */
export async function createKubernetesDouble(opts: KubernetesDoubleOptions): Promise<KubernetesDouble> {
  const faults = new Faults();
  const tls = await sandboxTls();
  const cluster = new Cluster({
    rolloutDelayMs: opts.rolloutDelayMs ?? 200,
    syncDelayMs: opts.syncDelayMs ?? 20,
    ...(opts.resolveRemoteRef ? { resolveRemoteRef: opts.resolveRemoteRef } : {}),
    ...(opts.podStarted ? { podStarted: opts.podStarted } : {}),
  });
  let address = '';

  const requests: KubeRequest[] = [];
  // Connections are numbered as the TLS handshake completes, so a client that reuses a keep-alive
  // connection shows as many requests on one number.
  const connectionOf = new WeakMap<object, number>();
  let connections = 0;
  const server = await listen(
    async (req, res) => {
      const body = await readBody(req);
      if (await faults.control(req, res, body)) return;
      // The cluster's own state, Secret values included: behind the same token as the API.
      if ((req.url ?? '').startsWith('/_state') && authorized(req, opts.token)) {
        const secrets = cluster.store.list('secrets').map(({ key, object }) => ({
          key,
          data: decodeData(object),
          object,
        }));
        sendJson(res, 200, {
          deployments: cluster.store.list('deployments').map((o) => o.object),
          secrets,
          externalSecrets: cluster.store.list('externalsecrets').map((o) => o.object),
          pods: cluster.podSnapshots(),
        });
        return;
      }
      if (await faults.apply(req, res)) return;
      if (!authorized(req, opts.token)) {
        sendStatus(res, statusOf(401, 'Unauthorized', 'Unauthorized'));
        return;
      }
      requests.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        at: Date.now(),
        connection: connectionOf.get(req.socket) ?? 0,
      });
      if (!handleApi(cluster, req, res, body, address)) {
        sendStatus(res, {
          ...notFound('', '', ''),
          message: 'the server could not find the requested resource',
          details: {},
        });
      }
    },
    opts.port ?? 0,
    { key: tls.keyPem, cert: tls.certPem },
  );
  address = `127.0.0.1:${server.port}`;
  server.server.on('secureConnection', (socket: object) => connectionOf.set(socket, ++connections));

  const copy = (o: JsonObject | undefined) => (o ? structuredClone(o) : undefined);
  const get = (resource: string, ns: string, name: string) => cluster.store.get(resource, `${ns}/${name}`);
  return {
    url: server.url,
    caPem: tls.caPem,
    faults,
    close: async () => {
      cluster.close();
      await server.close();
    },
    addDeployment: (d) => cluster.addDeployment(d),
    addSecret: (ns, name, data) => cluster.addSecret(ns, name, data),
    addExternalSecret: (ns, name, def) => cluster.addExternalSecret(ns, name, def),
    deployment: (ns, name) => copy(get('deployments', ns, name)),
    secret: (ns, name) => cluster.secretData(ns, name),
    externalSecret: (ns, name) => copy(get('externalsecrets', ns, name)),
    podValue: (ns, d, s, k) => cluster.podValue(ns, d, s, k),
    restarts: (ns, name) => cluster.deployments.restarts(`${ns}/${name}`),
    failNextRollout: (ns, name) => cluster.deployments.failNextRollout(`${ns}/${name}`),
    appendLog: (ns, d, line) => cluster.pods.appendToDeployment(`${ns}/${d}`, line),
    pods: (ns, d) => cluster.pods.of(`${ns}/${d}`).map((p) => p.key.slice(ns.length + 1)),
    requests: () => [...requests],
    connections: () => connections,
    kubeconfig: (namespace) =>
      stringify({
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          {
            name: 'double',
            cluster: {
              server: server.url,
              'certificate-authority-data': Buffer.from(tls.caPem).toString('base64'),
            },
          },
        ],
        users: [{ name: 'credential-rotator', user: { token: opts.token } }],
        contexts: [
          {
            name: 'double',
            context: { cluster: 'double', user: 'credential-rotator', ...(namespace ? { namespace } : {}) },
          },
        ],
        'current-context': 'double',
      }),
  };
}
