import { RotatorError, type ErrorCode, type SafeContext } from '../../domain/errors';
import type { IssuedKeyInfo, Issuer, KeyStatus, KeyUse } from '../../domain/ports';
import { Secret } from '../../domain/secret';
import { DEFAULT_RETRY, retryAfterFromHeaders, withRetry, type RetryOptions } from '../retry';

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

/** A failed attempt worth another try; carries no response body, value or token. */
class TransientFailure extends Error {
  constructor(
    readonly kind: 'rate_limited' | 'unavailable',
    readonly what: string,
    readonly retryAfterMs?: number,
  ) {
    super(what);
  }
}

const isKey = (v: unknown): v is WireKey =>
  typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string';

const STATUS: Record<string, KeyStatus> = {
  active: 'active',
  inactive: 'inactive',
  disabled: 'inactive',
  revoked: 'revoked',
  deleted: 'revoked',
};

/** The provider's error code (e.g. "unauthorized"), only when it looks like a code and not free text. */
async function errorCodeOf(res: Response, token: Secret): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    const echoesToken = typeof code === 'string' && code.includes(token.reveal());
    if (typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) && !echoesToken) return ` ${code}`;
  } catch {
    // not JSON: say nothing about the body
  }
  return '';
}

function networkReason(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'timed out';
  const code = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? `network error ${code}` : 'network error';
}

/**
 * Issuer for a generic REST API-key provider (the runbook's POST/GET/DELETE /v1/api-keys and
 * GET /v1/test). Timeouts on every call; 429 waits for the advertised reset; 5xx and network errors
 * are retried with backoff. Error texts name the host, method, path, key id and status only.
 */
export class RestApiKeyIssuer implements Issuer {
  private readonly base: string;
  private readonly host: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;

  constructor(private readonly opts: RestApiKeyIssuerOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.host = new URL(this.base).host;
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retry = { ...DEFAULT_RETRY, retryable: (e) => e instanceof TransientFailure, ...opts.retry };
  }

  /** Creates a key named `label` with the configured permissions; the value comes back wrapped. */
  async create(label: string): Promise<{ keyId: string; value: Secret }> {
    const res = await this.call('POST', '/v1/api-keys', { name: label, permissions: this.opts.permissions });
    if (!res.ok) throw await this.rejected(res, 'POST', '/v1/api-keys');
    const body = (await this.json(res, 'POST', '/v1/api-keys')) as { id?: unknown; api_key?: unknown };
    if (typeof body.id !== 'string' || typeof body.api_key !== 'string' || body.api_key === '') {
      throw this.error('issuer_rejected', 'answered POST /v1/api-keys without an id or api_key', {
        status: res.status,
      });
    }
    return { keyId: body.id, value: new Secret(body.api_key) };
  }

  /** Every key the admin token can see (values are never listed by the provider). */
  async list(): Promise<IssuedKeyInfo[]> {
    const res = await this.call('GET', '/v1/api-keys');
    if (!res.ok) throw await this.rejected(res, 'GET', '/v1/api-keys');
    const body = (await this.json(res, 'GET', '/v1/api-keys')) as { keys?: unknown };
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
    const res = await this.call('DELETE', path);
    if (res.ok || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    throw await this.rejected(res, 'DELETE', path);
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
    const res = await this.call('GET', '/v1/test', undefined, value);
    if (res.ok || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return res.ok;
    }
    throw await this.rejected(res, 'GET', '/v1/test');
  }

  /** The runbook's access-log query: GET /v1/audit-log?api_key_id=…&since=…, oldest first. */
  async usage(keyId: string, since: Date): Promise<KeyUse[]> {
    const query = new URLSearchParams({ api_key_id: keyId, since: since.toISOString() });
    const path = `/v1/audit-log?${query.toString()}`;
    const res = await this.call('GET', path);
    if (!res.ok) throw await this.rejected(res, 'GET', '/v1/audit-log');
    const body = await this.json(res, 'GET', '/v1/audit-log');
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
    const res = await this.call('GET', path);
    if (res.status === 404) {
      await res.body?.cancel();
      return undefined;
    }
    if (!res.ok) throw await this.rejected(res, 'GET', path);
    const body = await this.json(res, 'GET', path);
    if (!isKey(body)) throw this.error('issuer_rejected', `answered GET ${path} without an id`, { path });
    return body;
  }

  /** One logical call: bounded retries on 429 / 5xx / timeout / network; other answers returned. */
  private async call(method: string, path: string, body?: unknown, bearer?: Secret): Promise<Response> {
    const token = bearer ?? this.opts.adminToken;
    let attempts = 0;
    try {
      return await withRetry(async () => {
        attempts += 1;
        let res: Response;
        try {
          res = await this.fetchFn(`${this.base}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${token.reveal()}`,
              accept: 'application/json',
              ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            },
            ...(body === undefined ? {} : { body: JSON.stringify(body) }),
            signal: AbortSignal.timeout(this.timeoutMs),
          });
        } catch (e) {
          throw new TransientFailure('unavailable', networkReason(e));
        }
        if (res.status === 429) {
          await res.body?.cancel();
          throw new TransientFailure('rate_limited', 'answered 429', retryAfterFromHeaders(res.headers));
        }
        if (res.status >= 500) {
          await res.body?.cancel();
          throw new TransientFailure('unavailable', `answered ${res.status}`);
        }
        return res;
      }, this.retry);
    } catch (e) {
      if (!(e instanceof TransientFailure)) throw e;
      const limited = e.kind === 'rate_limited';
      const hint = limited ? ' (wait for the rate-limit reset)' : '';
      const context = { method, path, attempts, retryAfterMs: e.retryAfterMs };
      const text = `${method} ${path} ${e.what} after ${attempts} attempt(s)${hint}`;
      throw this.error(limited ? 'issuer_rate_limited' : 'issuer_unavailable', text, context, true);
    }
  }

  private async json(res: Response, method: string, path: string): Promise<Record<string, unknown>> {
    try {
      const v = (await res.json()) as unknown;
      if (typeof v === 'object' && v !== null) return v as Record<string, unknown>;
    } catch (e) {
      if (e instanceof Error && e.name === 'TimeoutError') {
        throw this.error(
          'issuer_unavailable',
          `${method} ${path} timed out reading the answer`,
          { method, path },
          true,
        );
      }
    }
    throw this.error('issuer_rejected', `answered ${method} ${path} with an unexpected body`, {
      method,
      path,
    });
  }

  private async rejected(res: Response, method: string, path: string): Promise<RotatorError> {
    const code = await errorCodeOf(res, this.opts.adminToken);
    const hint =
      res.status === 401 || res.status === 403 ? ' (check the admin token and its permissions)' : '';
    const context = { method, path, status: res.status };
    return this.error('issuer_rejected', `rejected ${method} ${path}: ${res.status}${code}${hint}`, context);
  }

  /** Every error names the provider's host; context holds ids and statuses only. */
  private error(code: ErrorCode, text: string, context: SafeContext, transient = false): RotatorError {
    return new RotatorError(code, `${this.host} ${text}`, {
      transient,
      context: { host: this.host, ...context },
    });
  }
}
