import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions } from 'node:https';
import { KubeConfig, type RequestContext } from '@kubernetes/client-node';
import { RotatorError } from '../../domain/errors';

/** Sockets the API calls (not the watches) of one process may hold open to the cluster at once. */
export const DEFAULT_MAX_SOCKETS = 4;

type Agent = HttpAgent | HttpsAgent;

/**
 * A KubeConfig whose API calls share one keep-alive agent, and whose watches share another.
 * `@kubernetes/client-node` 1.4 builds a new agent for every request (kubernetes-client/javascript
 * #2893), so every call paid a TCP and TLS handshake and left a closed connection behind. Watches get
 * their own pool so a long watch never queues an API call behind it. A cluster behind a proxy keeps
 * the library's proxy agents.
 */
export class KeepAliveKubeConfig extends KubeConfig {
  private agents: Promise<{ api: Agent; watch: Agent } | undefined> | undefined;

  constructor(private readonly maxSockets = DEFAULT_MAX_SOCKETS) {
    super();
  }

  override async applySecurityAuthentication(context: RequestContext): Promise<void> {
    await super.applySecurityAuthentication(context);
    const shared = await this.shared();
    if (shared) context.setAgent(shared.api);
  }

  override async applyToFetchOptions(opts: RequestOptions): ReturnType<KubeConfig['applyToFetchOptions']> {
    const init = await super.applyToFetchOptions(opts);
    const shared = await this.shared();
    return shared ? { ...init, agent: shared.watch } : init;
  }

  /** Closes the pooled connections (graceful shutdown). */
  async destroyAgents(): Promise<void> {
    const shared = await this.agents;
    shared?.api.destroy();
    shared?.watch.destroy();
    this.agents = undefined;
  }

  private shared(): Promise<{ api: Agent; watch: Agent } | undefined> {
    this.agents ??= this.build();
    return this.agents;
  }

  private async build(): Promise<{ api: Agent; watch: Agent } | undefined> {
    const cluster = this.getCurrentCluster();
    if (!cluster || cluster.proxyUrl) return undefined;
    // The TLS material the library would give each of its per-request agents (CA, client cert).
    const tls: RequestOptions = {};
    await super.applyToHTTPSOptions(tls);
    const options = {
      keepAlive: true,
      ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
      ...(tls.cert !== undefined ? { cert: tls.cert } : {}),
      ...(tls.key !== undefined ? { key: tls.key } : {}),
      ...(tls.pfx !== undefined ? { pfx: tls.pfx } : {}),
      ...(tls.passphrase !== undefined ? { passphrase: tls.passphrase } : {}),
      ...(cluster.skipTLSVerify ? { rejectUnauthorized: false } : {}),
      ...(tls.rejectUnauthorized !== undefined ? { rejectUnauthorized: tls.rejectUnauthorized } : {}),
      ...(cluster.tlsServerName ? { servername: cluster.tlsServerName } : {}),
    };
    const make = (maxSockets: number): Agent =>
      cluster.server.startsWith('http:')
        ? new HttpAgent({ keepAlive: true, maxSockets })
        : new HttpsAgent({ ...options, maxSockets });
    // A watch holds its socket for as long as it runs, one per namespace being rolled out: a
    // bounded pool would queue the watch of every namespace past the bound behind the others until
    // their timeoutSeconds, so it is as large as the number of watches (they are reused once ended).
    return { api: make(this.maxSockets), watch: make(Infinity) };
  }
}

/**
 * The cluster connection: a kubeconfig file when a path is given, else the pod's service account,
 * with one keep-alive connection pool for the whole process.
 */
export function kubeConfigFrom(
  opts: { kubeconfigPath?: string; maxSockets?: number } = {},
): KeepAliveKubeConfig {
  const kc = new KeepAliveKubeConfig(opts.maxSockets);
  try {
    if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromCluster();
  } catch (e) {
    const source = opts.kubeconfigPath
      ? `kubeconfig ${opts.kubeconfigPath}`
      : 'the in-cluster service account';
    throw new RotatorError('config_invalid', `cannot load Kubernetes credentials from ${source}`, {
      context: { cause: e instanceof Error ? e.name : 'unknown' },
    });
  }
  return kc;
}
