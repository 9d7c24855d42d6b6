import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Faults } from '../faults';
import { bearerOf, listenWithFaults, parseJson, sameToken, sendJson } from '../http';

export interface ClientSecretSummary {
  id: string;
  description: string;
  createdAt: string;
  lastUsedAt?: string;
}

export interface OAuthDouble {
  url: string;
  /** TCP connections clients have opened to it (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received. */
  requestCount(): number;
  close(): Promise<void>;
  faults: Faults;
  /** Registers a client (idempotent) and gives it a secret, as an admin console would. */
  seedSecret(clientId: string, s: { value: string; description: string; createdAt?: Date }): { id: string };
  /** The client's secrets (never their values). */
  secrets(clientId: string): ClientSecretSummary[];
  /** Whether a client_credentials grant with this secret would succeed now; records nothing. */
  accepts(clientId: string, value: string): boolean;
  /** A client exchanging its secret for a token (records last use); false if rejected. */
  use(clientId: string, value: string): boolean;
  /** Every secret value ever issued or seeded: what leak checks search for. */
  issuedValues(): string[];
}

interface StoredSecret {
  id: string;
  value: string;
  description: string;
  createdAt: string;
  lastUsedAt?: string;
}

const view = (s: StoredSecret) => ({
  id: s.id,
  description: s.description,
  created_at: s.createdAt,
  last_used_at: s.lastUsedAt ?? null,
});

/** RFC 6749 2.3.1: Basic credentials are the form-urlencoded client id and secret. */
function basicCredentials(req: IncomingMessage): { id: string; secret: string } | undefined {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const dec = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { id: dec(decoded.slice(0, colon)), secret: dec(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/**
 * An identity provider's client-secret admin API and token endpoint:
 * `POST /clients/{id}/secrets` → 201 `{id, secret, description, created_at}` (the value only here),
 * `GET /clients/{id}/secrets` → `{secrets: [...]}`, `DELETE /clients/{id}/secrets/{secretId}` → 204,
 * admin calls with a bearer admin token; `POST /oauth/token` with `grant_type=client_credentials`
 * and the client authenticated by HTTP Basic or form fields (RFC 6749 2.3.1, 4.4, 5.1, 5.2).
 */
export async function createOAuthDouble(opts: { adminToken: string; port?: number }): Promise<OAuthDouble> {
  const faults = new Faults();
  const clients = new Map<string, StoredSecret[]>();
  const issued: string[] = [];
  let next = 1;

  const add = (clientId: string, s: { value: string; description: string; createdAt?: Date }) => {
    const secret: StoredSecret = {
      id: `sec_${String(next++).padStart(4, '0')}${randomBytes(3).toString('hex')}`,
      value: s.value,
      description: s.description,
      createdAt: (s.createdAt ?? new Date()).toISOString(),
    };
    issued.push(s.value);
    clients.set(clientId, [...(clients.get(clientId) ?? []), secret]);
    return secret;
  };
  const find = (clientId: string, value: string) => clients.get(clientId)?.find((s) => s.value === value);

  function admin(req: IncomingMessage, res: ServerResponse, path: string, body: string): void {
    if (!sameToken(bearerOf(req), opts.adminToken)) return sendJson(res, 401, { error: 'unauthorized' });
    const m = /^\/clients\/([^/]+)\/secrets(?:\/([^/]+))?$/.exec(path);
    const clientId = m?.[1] ? decodeURIComponent(m[1]) : undefined;
    const list = clientId ? clients.get(clientId) : undefined;
    if (!clientId || !list) return sendJson(res, 404, { error: 'not_found' });
    const method = req.method ?? 'GET';
    if (!m?.[2] && method === 'GET') return sendJson(res, 200, { secrets: list.map(view) });
    if (!m?.[2] && method === 'POST') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') return sendJson(res, 415, { error: 'unsupported_media_type' });
      const parsed = parseJson(body) as { description?: unknown } | undefined;
      if (typeof parsed?.description !== 'string' || parsed.description === '')
        return sendJson(res, 400, { error: 'invalid_request' });
      const s = add(clientId, {
        value: randomBytes(24).toString('base64url'),
        description: parsed.description,
      });
      return sendJson(res, 201, { ...view(s), secret: s.value });
    }
    if (m?.[2] && method === 'DELETE') {
      const id = decodeURIComponent(m[2]);
      if (!list.some((s) => s.id === id)) return sendJson(res, 404, { error: 'not_found' });
      clients.set(
        clientId,
        list.filter((s) => s.id !== id),
      );
      res.writeHead(204).end();
      return;
    }
    return sendJson(res, 405, { error: 'method_not_allowed' });
  }

  /** The token endpoint: invalid_client is 401 with a Basic challenge when Basic was tried (5.2). */
  function token(req: IncomingMessage, res: ServerResponse, body: string): void {
    const noStore = { 'cache-control': 'no-store', pragma: 'no-cache' };
    const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    if (req.method !== 'POST' || type !== 'application/x-www-form-urlencoded')
      return sendJson(res, 400, { error: 'invalid_request' }, noStore);
    const form = new URLSearchParams(body);
    const basic = basicCredentials(req);
    const id = basic?.id ?? form.get('client_id') ?? undefined;
    const secret = basic?.secret ?? form.get('client_secret') ?? undefined;
    const found = id && secret ? find(id, secret) : undefined;
    if (!found) {
      const challenge: Record<string, string> = basic ? { 'www-authenticate': 'Basic realm="oauth"' } : {};
      return sendJson(res, basic ? 401 : 400, { error: 'invalid_client' }, { ...noStore, ...challenge });
    }
    if (form.get('grant_type') !== 'client_credentials')
      return sendJson(res, 400, { error: 'unsupported_grant_type' }, noStore);
    found.lastUsedAt = new Date().toISOString();
    sendJson(
      res,
      200,
      { access_token: randomBytes(16).toString('hex'), token_type: 'Bearer', expires_in: 3600 },
      noStore,
    );
  }

  const server = await listenWithFaults(
    faults,
    (req, res, body) => {
      const path = new URL(req.url ?? '/', 'http://oauth.local').pathname.replace(/\/+$/, '');
      if (path === '/oauth/token') return token(req, res, body);
      if (path.startsWith('/clients/')) return admin(req, res, path, body);
      return sendJson(res, 404, { error: 'not_found' });
    },
    opts.port ?? 0,
  );

  const { url } = server;
  return {
    url,
    faults,
    connections: () => server.connections(),
    requestCount: () => server.requestCount(),
    close: () => server.close(),
    seedSecret: (clientId, s) => ({ id: add(clientId, s).id }),
    secrets: (clientId) =>
      (clients.get(clientId) ?? []).map((s) => ({
        id: s.id,
        description: s.description,
        createdAt: s.createdAt,
        ...(s.lastUsedAt ? { lastUsedAt: s.lastUsedAt } : {}),
      })),
    accepts: (clientId, value) => find(clientId, value) !== undefined,
    use: (clientId, value) => {
      const s = find(clientId, value);
      if (s) s.lastUsedAt = new Date().toISOString();
      return s !== undefined;
    },
    issuedValues: () => [...issued],
  };
}
