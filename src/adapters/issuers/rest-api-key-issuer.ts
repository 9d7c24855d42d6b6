import type { IssuedKeyInfo, Issuer, KeyStatus, KeyUse } from '../../domain/ports';
import { Secret } from '../../domain/secret';
import type { RetryOptions } from '../retry';
import { IssuerHttp, KEY_STATUS as STATUS } from './issuer-http';

export interface RestApiKeyIssuerOptions {
  baseUrl: string;
  adminToken: Secret;
  permissions: string[];
  fetch?: typeof fetch;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

interface WireKey {
  id: string;
  name?: string;
  status?: string;
  created?: string;
  last_used_at?: string | null;
}

const isKey = (v: unknown): v is WireKey =>
  typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';

/**
 * Issuer for a generic REST API-key provider (the runbook's POST/GET/DELETE /v1/api-keys and
 * GET /v1/test). Timeouts on every call; 429 waits for the advertised reset; 5xx and network errors
 * are retried with backoff. Error texts name the host, method, path, key id and status only.
 */
export class RestApiKeyIssuer implements Issuer {
  private readonly http: IssuerHttp;

  constructor(private readonly opts: RestApiKeyIssuerOptions) {
    this.http = new IssuerHttp(opts);
  }

  /** Creates a key named `label` with the configured permissions; the value comes back wrapped. */
  async create(label: string): Promise<{ keyId: string; value: Secret }> {
    const res = await this.http.call('POST', '/v1/api-keys', {
      json: { name: label, permissions: this.opts.permissions },
    });
    if (!res.ok) throw await this.http.rejected(res, 'POST', '/v1/api-keys');
    const body = (await this.http.json(res, 'POST', '/v1/api-keys')) as { id?: unknown; api_key?: unknown };
    if (typeof body.id !== 'string' || typeof body.api_key !== 'string' || body.api_key === '') {
      throw this.http.error('issuer_rejected', 'answered POST /v1/api-keys without an id or api_key', {
        status: res.status,
      });
    }
    return { keyId: body.id, value: new Secret(body.api_key) };
  }

  /** Every key the admin token can see (values are never listed by the provider). */
  async list(): Promise<IssuedKeyInfo[]> {
    const res = await this.http.call('GET', '/v1/api-keys');
    if (!res.ok) throw await this.http.rejected(res, 'GET', '/v1/api-keys');
    const body = (await this.http.json(res, 'GET', '/v1/api-keys')) as { keys?: unknown };
    const keys = Array.isArray(body.keys) ? body.keys.filter(isKey) : [];
    return keys.map((k) => ({
      keyId: k.id,
      label: k.name ?? '',
      status: STATUS[k.status ?? ''] ?? 'inactive',
      createdAt: k.created ?? '',
      ...(k.last_used_at ? { lastUsedAt: k.last_used_at } : {}),
    }));
  }

  /** The key's state at the provider; `absent` when it does not know the id. */
  async status(keyId: string): Promise<KeyStatus> {
    const key = await this.getKey(keyId);
    return key ? (STATUS[key.status ?? ''] ?? 'inactive') : 'absent';
  }

  /** DELETE /v1/api-keys/:id; a key that is already gone (404) counts as revoked. */
  async revoke(keyId: string): Promise<void> {
    const path = `/v1/api-keys/${encodeURIComponent(keyId)}`;
    const res = await this.http.call('DELETE', path);
    if (res.ok || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    throw await this.http.rejected(res, 'DELETE', path);
  }

  /** The provider's last_used_at for the key; undefined when never used or unknown. */
  async lastUsed(keyId: string): Promise<Date | undefined> {
    const at = (await this.getKey(keyId))?.last_used_at;
    if (!at) return undefined;
    const d = new Date(at);
    return Number.isNaN(d.getTime()) ? undefined : d;
  }

  /** The runbook's "attempt to use old credential": GET /v1/test with the value as bearer. */
  async accepts(value: Secret): Promise<boolean> {
    const res = await this.http.call('GET', '/v1/test', { auth: { bearer: value } });
    if (res.ok || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return res.ok;
    }
    throw await this.http.rejected(res, 'GET', '/v1/test');
  }

  /** The runbook's access-log query: GET /v1/audit-log?api_key_id=…&since=…, oldest first. */
  async usage(keyId: string, since: Date): Promise<KeyUse[]> {
    const query = new URLSearchParams({ api_key_id: keyId, since: since.toISOString() });
    const path = `/v1/audit-log?${query.toString()}`;
    const res = await this.http.call('GET', path);
    if (!res.ok) throw await this.http.rejected(res, 'GET', '/v1/audit-log');
    const body = await this.http.json(res, 'GET', '/v1/audit-log');
    const entries = Array.isArray(body['entries']) ? (body['entries'] as unknown[]) : [];
    return entries
      .filter((e): e is Record<string, unknown> => typeof e === 'object' && e !== null)
      .filter((e) => typeof e['time'] === 'string' && !Number.isNaN(Date.parse(e['time'] as string)))
      .map((e) => ({
        time: e['time'] as string,
        keyId: typeof e['api_key_id'] === 'string' ? e['api_key_id'] : keyId,
        ...(typeof e['remote_address'] === 'string' ? { remoteAddress: e['remote_address'] } : {}),
      }))
      .sort((a, b) => a.time.localeCompare(b.time));
  }

  private async getKey(keyId: string): Promise<WireKey | undefined> {
    const path = `/v1/api-keys/${encodeURIComponent(keyId)}`;
    const res = await this.http.call('GET', path);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw await this.http.rejected(res, 'GET', path);
    const body = await this.http.json(res, 'GET', path);
    if (!isKey(body))
      throw this.http.error('issuer_rejected', `answered GET ${path} without an id`, { path });
    return body;
  }
}
