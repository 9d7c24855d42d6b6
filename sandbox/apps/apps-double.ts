import type { ServerResponse } from 'node:http';
import { Faults } from '../faults';
import { listen, readBody, sendJson } from '../http';

export interface AppsDoubleOptions {
  port?: number;
  /** The value the consumer's running pods hold; undefined when nothing is deployed. */
  credentialOf: (consumer: string) => Promise<string | undefined>;
  /** Does the provider accept it (and record its use); `consumer` is the app that used it. */
  check: (value: string, consumer: string) => Promise<boolean>;
  /** The dependency field of the health answer; default payment_gateway (the runbook's). */
  field?: string;
}

export interface AppsDouble {
  url: string;
  /** TCP connections clients have opened to it (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received. */
  requestCount(): number;
  close(): Promise<void>;
  faults: Faults;
  healthUrl(consumer: string): string;
  forceUnhealthy(consumer: string, on: boolean): void;
}

/**
 * The consuming applications' health endpoints (the runbook's /health/external-services):
 * healthy only while the value the consumer holds is accepted by the provider.
 */
export async function createAppsDouble(opts: AppsDoubleOptions): Promise<AppsDouble> {
  const field = opts.field ?? 'payment_gateway';
  const faults = new Faults();
  const forced = new Set<string>();

  const unhealthy = (res: ServerResponse, error: string): void =>
    sendJson(res, 503, { status: 'unhealthy', [field]: 'disconnected', error });

  async function health(res: ServerResponse, consumer: string): Promise<void> {
    if (forced.has(consumer)) return unhealthy(res, 'forced unhealthy (sandbox)');
    const value = await opts.credentialOf(consumer);
    if (value === undefined) return unhealthy(res, 'no credential deployed');
    if (!(await opts.check(value, consumer))) return unhealthy(res, '401 from provider');
    sendJson(res, 200, { status: 'healthy', [field]: 'connected' });
  }

  const setForced = (consumer: string, on: boolean): void => {
    if (on) forced.add(consumer);
    else forced.delete(consumer);
  };

  const server = await listen(async (req, res) => {
    if (await faults.apply(req, res)) return;
    const body = await readBody(req);
    if (await faults.control(req, res, body)) return;
    const path = new URL(req.url ?? '/', 'http://apps.local').pathname;
    const healthMatch = /^\/health\/([^/]+)$/.exec(path);
    if (healthMatch?.[1] && req.method === 'GET') return health(res, decodeURIComponent(healthMatch[1]));
    // Demo hook: POST /_unhealthy/<consumer> {"on": true|false}
    const forceMatch = /^\/_unhealthy\/([^/]+)$/.exec(path);
    if (forceMatch?.[1] && req.method === 'POST') {
      const on = (JSON.parse(body || '{}') as { on?: unknown }).on !== false;
      setForced(decodeURIComponent(forceMatch[1]), on);
      return sendJson(res, 200, { ok: true, on });
    }
    return sendJson(res, 404, { error: 'not_found' });
  }, opts.port ?? 0);

  return {
    url: server.url,
    connections: () => server.connections(),
    requestCount: () => server.requestCount(),
    close: () => server.close(),
    faults,
    healthUrl: (consumer) => `${server.url}/health/${encodeURIComponent(consumer)}`,
    forceUnhealthy: setForced,
  };
}
