import type { IncomingMessage, ServerResponse } from 'node:http';
import { Faults } from '../faults';
import { bearerOf, listen, parseJson, readBody, sameToken, sendJson } from '../http';
import { KeyRegistry, type ProviderKey, type ProviderKeyStatus } from './key-registry';

export interface ProviderKeySummary {
  id: string;
  name: string;
  status: ProviderKeyStatus;
  created: string;
  lastUsedAt?: string;
  /** When it was revoked (epoch ms). */
  revokedAtMs?: number;
}

export interface ProviderDouble {
  url: string;
  /** TCP connections clients have opened to it (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received. */
  requestCount(): number;
  close(): Promise<void>;
  faults: Faults;
  seedKey(key: { id?: string; name: string; value: string; createdAt?: Date }): { id: string };
  keys(): ProviderKeySummary[];
  activeKeys(): ProviderKeySummary[];
  /** A client calling with this key: records last use; false if rejected. */
  use(value: string, at?: Date): boolean;
  /** Every key value the provider ever issued or was seeded with: what leak checks search for. */
  issuedValues(): string[];
  /** Whether the provider would accept this value now; records nothing. */
  accepts(value: string): boolean;
  /** The next `n` management calls answer 429 with Retry-After and X-RateLimit-Reset. */
  rateLimit(n: number, resetSeconds: number): void;
  /** Settable: a revoked key keeps being accepted this long (the runbook's propagation delay). */
  revocationDelayMs: number;
  /** The most management calls (admin-token API) in flight at once since the last reset. */
  maxInFlight(): number;
  /** Management calls in flight now. */
  inFlight(): number;
  resetInFlight(): void;
  /** How many management calls (admin-token API) it has answered. */
  managementCalls(): number;
  /** Those calls, oldest first: method and path (with query). */
  managementLog(): Array<{ method: string; path: string }>;
  /** Settable: how long each management call takes inside the provider (counted as in flight). */
  managementLatencyMs: number;
}

const isStringArray = (v: unknown): v is string[] =>
  Array.isArray(v) && v.every((p) => typeof p === 'string');

/**
 * A generic REST API-key provider (the runbook's api.provider.example.com/v1/api-keys): admin-token
 * management, key use on /v1/test, an access log, rate limits and revocation delay on demand.
 */
export async function createProviderDouble(opts: {
  adminToken: string;
  port?: number;
}): Promise<ProviderDouble> {
  const registry = new KeyRegistry();
  const faults = new Faults();
  let limited = { remaining: 0, resetSeconds: 0 };
  let inFlight = 0;
  let maxInFlight = 0;
  let managementLatencyMs = 0;
  let calls = 0;
  const log: Array<{ method: string; path: string }> = [];

  async function management(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    body: string,
  ): Promise<void> {
    if (!sameToken(bearerOf(req), opts.adminToken)) return sendJson(res, 401, { error: 'unauthorized' });
    if (limited.remaining > 0) {
      limited.remaining -= 1;
      const reset = Math.ceil(Date.now() / 1000 + limited.resetSeconds);
      return sendJson(
        res,
        429,
        { error: 'rate_limited' },
        {
          'retry-after': String(limited.resetSeconds),
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(reset),
        },
      );
    }
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '');
    if (path === '/v1/api-keys' && method === 'POST') return createKey(req, res, body);
    if (path === '/v1/api-keys' && method === 'GET') {
      return sendJson(res, 200, { keys: registry.all().map(KeyRegistry.view) });
    }
    const one = /^\/v1\/api-keys\/([^/]+)$/.exec(path);
    if (one?.[1]) {
      const id = decodeURIComponent(one[1]);
      const key = registry.get(id);
      if (method === 'GET') return key ? sendJson(res, 200, KeyRegistry.view(key)) : notFound(res);
      if (method === 'DELETE') {
        if (!registry.revoke(id)) return notFound(res);
        res.writeHead(204).end();
        return;
      }
    }
    if (path === '/v1/audit-log' && (method === 'GET' || method === 'POST')) {
      // The runbook's curl uses --data-urlencode without -G, i.e. a form POST; accept both.
      const params = method === 'POST' ? new URLSearchParams(body) : url.searchParams;
      const entries = registry.audit({
        apiKeyId: params.get('api_key_id') ?? undefined,
        since: params.get('since') ?? undefined,
      });
      return sendJson(res, 200, { entries });
    }
    return notFound(res);
  }

  function createKey(req: IncomingMessage, res: ServerResponse, body: string): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (type !== 'application/json') return sendJson(res, 415, { error: 'unsupported_media_type' });
    const parsed = parseJson(body);
    if (typeof parsed !== 'object' || parsed === null) return sendJson(res, 400, { error: 'invalid_json' });
    const { name, permissions } = parsed as { name?: unknown; permissions?: unknown };
    if (typeof name !== 'string' || name.trim() === '') {
      return sendJson(res, 400, { error: 'invalid_request', message: 'name is required' });
    }
    if (!isStringArray(permissions)) {
      return sendJson(res, 400, {
        error: 'invalid_request',
        message: 'permissions must be an array of strings',
      });
    }
    const key = registry.add({ name, permissions });
    sendJson(res, 201, {
      id: key.id,
      api_key: key.value,
      name: key.name,
      permissions: key.permissions,
      status: key.status,
      created: key.created,
    });
  }

  function keyUse(req: IncomingMessage, res: ServerResponse): void {
    const value = bearerOf(req);
    const ok = value !== undefined && registry.use(value, { remoteAddress: req.socket.remoteAddress });
    if (ok) sendJson(res, 200, { status: 'ok' });
    else sendJson(res, 401, { error: 'invalid_api_key' });
  }

  const notFound = (res: ServerResponse): void => sendJson(res, 404, { error: 'not_found' });

  const server = await listen(async (req, res) => {
    if (await faults.apply(req, res)) return;
    const body = await readBody(req);
    if (await faults.control(req, res, body)) return;
    const url = new URL(req.url ?? '/', 'http://provider.local');
    if (url.pathname === '/_use' && req.method === 'POST') {
      // Demo hook: an unknown consumer calling with a key (documentation address range).
      const { value } = (parseJson(body) ?? {}) as { value?: unknown };
      if (typeof value !== 'string') return sendJson(res, 400, { error: 'value is required' });
      return sendJson(res, 200, { accepted: registry.use(value, { remoteAddress: '198.51.100.23' }) });
    }
    if (url.pathname === '/v1/test') return keyUse(req, res);
    if (url.pathname.startsWith('/v1/')) {
      inFlight += 1;
      calls += 1;
      log.push({ method: req.method ?? 'GET', path: req.url ?? '/' });
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (managementLatencyMs > 0) await new Promise((r) => setTimeout(r, managementLatencyMs));
        return await management(req, res, url, body);
      } finally {
        inFlight -= 1;
      }
    }
    return notFound(res);
  }, opts.port ?? 0);

  const summary = (k: ProviderKey): ProviderKeySummary => ({
    id: k.id,
    name: k.name,
    status: k.status,
    created: k.created,
    ...(k.lastUsedAt ? { lastUsedAt: k.lastUsedAt } : {}),
    ...(k.revokedAtMs !== undefined ? { revokedAtMs: k.revokedAtMs } : {}),
  });

  return {
    url: server.url,
    connections: () => server.connections(),
    requestCount: () => server.requestCount(),
    close: () => server.close(),
    faults,
    seedKey: (k) => ({ id: registry.add(k).id }),
    keys: () => registry.all().map(summary),
    activeKeys: () =>
      registry
        .all()
        .filter((k) => k.status === 'active')
        .map(summary),
    use: (value, at) => registry.use(value, at ? { at } : {}),
    issuedValues: () => registry.all().map((k) => k.value),
    accepts: (value) => registry.accepts(value),
    rateLimit: (n, resetSeconds) => {
      limited = { remaining: n, resetSeconds };
    },
    maxInFlight: () => maxInFlight,
    inFlight: () => inFlight,
    managementCalls: () => calls,
    managementLog: () => [...log],
    resetInFlight: () => {
      maxInFlight = inFlight;
    },
    get managementLatencyMs() {
      return managementLatencyMs;
    },
    set managementLatencyMs(ms: number) {
      managementLatencyMs = ms;
    },
    get revocationDelayMs() {
      return registry.revocationDelayMs;
    },
    set revocationDelayMs(ms: number) {
      registry.revocationDelayMs = ms;
    },
  };
}
