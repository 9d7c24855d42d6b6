import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** What node-vault hands its request library for one call (the subset it uses). */
interface VaultRequest {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  /** The body to send as JSON, or `true` (node-vault's default: answer parsed as JSON). */
  json?: unknown;
  timeout?: number;
}

/** What node-vault expects back: it turns a status other than 200/204 into its ApiResponseError. */
interface VaultResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

/**
 * node-vault's `request-promise` hook: its calls go straight to node's HTTP client on one keep-alive
 * agent, instead of through axios and follow-redirects. Those two cost more CPU per call than
 * Vault's answer does, which told on a worker storing a hundred rotations at once. Vault answers
 * without redirects except to a standby's leader, which this does not follow (neither did the store
 * with node-vault's defaults, which refuse a redirected write). Errors keep the shape node-vault's
 * own transport gave: a network error's `code`, ETIMEDOUT after the call's timeout.
 */
export function vaultTransport(endpoint: string): {
  defaults(d: { strictSSL?: boolean }): (o: VaultRequest) => Promise<VaultResponse>;
  destroy(): void;
} {
  const secure = endpoint.startsWith('https:');
  let agent: HttpAgent | undefined;
  return {
    defaults: (d) => {
      agent ??= secure
        ? new HttpsAgent({ keepAlive: true, ...(d.strictSSL === false ? { rejectUnauthorized: false } : {}) })
        : new HttpAgent({ keepAlive: true });
      const pool = agent;
      return (o) => send(o, pool, secure);
    },
    destroy: () => agent?.destroy(),
  };
}

function send(o: VaultRequest, agent: HttpAgent, secure: boolean): Promise<VaultResponse> {
  const url = new URL(o.uri);
  const body = typeof o.json === 'object' && o.json !== null ? JSON.stringify(o.json) : undefined;
  const headers: Record<string, string | number> = { accept: 'application/json', ...o.headers };
  if (body !== undefined) {
    if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['content-type'] = 'application/json';
    headers['content-length'] = Buffer.byteLength(body);
  }
  return new Promise<VaultResponse>((resolve, reject) => {
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: o.method, headers, agent },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = undefined;
          if (text !== '') {
            try {
              parsed = JSON.parse(text) as unknown;
            } catch {
              parsed = text;
            }
          }
          resolve({ statusCode: res.statusCode ?? 0, body: parsed, request: { path: url.pathname } });
        });
      },
    );
    const timer =
      o.timeout !== undefined
        ? setTimeout(
            () =>
              req.destroy(Object.assign(new Error('Vault did not answer in time'), { code: 'ETIMEDOUT' })),
            o.timeout,
          )
        : undefined;
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(body);
  });
}
