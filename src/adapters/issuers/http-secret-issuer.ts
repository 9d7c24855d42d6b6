import type { HttpSecretIssuerSpec } from '../../domain/credential';
import type { IssuedKeyInfo, Issuer, KeyStatus } from '../../domain/ports';
import { Secret } from '../../domain/secret';
import type { RetryOptions } from '../retry';
import { IssuerHttp, KEY_STATUS } from './issuer-http';

export interface HttpSecretIssuerOptions {
  spec: HttpSecretIssuerSpec;
  fetch?: typeof fetch;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

/** The value at a dot path (`data.secret`) of a JSON answer; '' is the answer itself. */
export function fieldAt(v: unknown, path: string): unknown {
  if (path === '') return v;
  return path
    .split('.')
    .reduce<unknown>(
      (o, k) => (typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined),
      v,
    );
}

/** `{name}` placeholders filled from `values`, each URL-encoded when the text is a path. */
export function fill(template: string, values: Record<string, string>, encode: boolean): string {
  return template.replace(/\{([a-zA-Z][a-zA-Z0-9_]*)\}/g, (whole, name: string) => {
    const v = values[name];
    if (v === undefined) return whole;
    return encode ? encodeURIComponent(v) : v;
  });
}

function fillBody(body: unknown, values: Record<string, string>): unknown {
  if (typeof body === 'string') return fill(body, values, false);
  if (Array.isArray(body)) return body.map((b) => fillBody(b, values));
  if (typeof body === 'object' && body !== null)
    return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fillBody(v, values)]));
  return body;
}

const text = (v: unknown): string | undefined =>
  typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;

/**
 * Issuer for any provider whose admin API creates a client secret or token and deletes one by id:
 * the paths, methods and JSON fields come from the catalog, so a new provider is a catalog entry.
 * HTTP handling (timeouts, 429, 5xx, safe errors) is the shared IssuerHttp's.
 */
export class HttpSecretIssuer implements Issuer {
  private readonly http: IssuerHttp;
  private readonly spec: HttpSecretIssuerSpec;

  constructor(opts: HttpSecretIssuerOptions) {
    this.spec = opts.spec;
    this.http = new IssuerHttp({
      baseUrl: opts.spec.baseUrl,
      adminToken: opts.spec.adminToken,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.retry ? { retry: opts.retry } : {}),
    });
  }

  private path(template: string, extra: Record<string, string> = {}): string {
    return fill(template, { ...this.spec.vars, ...extra }, true);
  }

  /** Creates a secret labelled `label`; its id and value are read from the configured fields. */
  async create(label: string): Promise<{ keyId: string; value: Secret }> {
    const { create } = this.spec;
    const path = this.path(create.path, { label });
    const res = await this.http.call(create.method, path, {
      json: fillBody(create.body, { ...this.spec.vars, label }),
    });
    if (!res.ok) throw await this.http.rejected(res, create.method, path);
    const body = await this.http.json(res, create.method, path);
    const id = text(fieldAt(body, create.idField));
    const value = fieldAt(body, create.valueField);
    if (!id || typeof value !== 'string' || value === '') {
      throw this.http.error(
        'issuer_rejected',
        `answered ${create.method} ${path} without ${create.idField} or ${create.valueField}`,
        { status: res.status },
      );
    }
    return { keyId: id, value: new Secret(value) };
  }

  /** Every secret the admin API lists (values are never listed). */
  async list(): Promise<IssuedKeyInfo[]> {
    const { list } = this.spec;
    const path = this.path(list.path);
    const res = await this.http.call('GET', path);
    if (!res.ok) throw await this.http.rejected(res, 'GET', path);
    const items = fieldAt(await this.http.json(res, 'GET', path), list.itemsField);
    if (!Array.isArray(items)) {
      throw this.http.error('issuer_rejected', `answered GET ${path} without the ${list.itemsField} list`, {
        path,
      });
    }
    return items.flatMap((item): IssuedKeyInfo[] => {
      const keyId = text(fieldAt(item, list.idField));
      if (!keyId) return [];
      const status = list.statusField ? text(fieldAt(item, list.statusField)) : 'active';
      const lastUsed = list.lastUsedField ? text(fieldAt(item, list.lastUsedField)) : undefined;
      return [
        {
          keyId,
          label: text(fieldAt(item, list.labelField)) ?? '',
          status: KEY_STATUS[status?.toLowerCase() ?? ''] ?? 'inactive',
          createdAt: (list.createdField && text(fieldAt(item, list.createdField))) || '',
          ...(lastUsed ? { lastUsedAt: lastUsed } : {}),
        },
      ];
    });
  }

  /** A listed secret's status; `absent` when the list no longer has it (deleted). */
  async status(keyId: string): Promise<KeyStatus> {
    return (await this.list()).find((k) => k.keyId === keyId)?.status ?? 'absent';
  }

  /** Deletes the secret by id; one that is already gone (404) counts as revoked. */
  async revoke(keyId: string): Promise<void> {
    const { revoke } = this.spec;
    const path = this.path(revoke.path, { id: keyId });
    const res = await this.http.call(revoke.method, path);
    if (res.ok || res.status === 404) {
      await res.body?.cancel();
      return;
    }
    throw await this.http.rejected(res, revoke.method, path);
  }

  /** The list's last-use field for the secret, where the provider reports one. */
  async lastUsed(keyId: string): Promise<Date | undefined> {
    const at = (await this.list()).find((k) => k.keyId === keyId)?.lastUsedAt;
    const d = at ? new Date(at) : undefined;
    return d && !Number.isNaN(d.getTime()) ? d : undefined;
  }

  /**
   * Whether the provider accepts the value now: a client_credentials grant with it (RFC 6749 4.4,
   * client authenticated with HTTP Basic) or a call bearing it. 400/401/403 mean rejected.
   */
  async accepts(value: Secret): Promise<boolean> {
    const { verify } = this.spec;
    const path = this.path(verify.path);
    const method = verify.kind === 'client_credentials' ? 'POST' : verify.method;
    const res =
      verify.kind === 'client_credentials'
        ? await this.http.call(method, path, {
            form: { grant_type: 'client_credentials', ...(verify.scope ? { scope: verify.scope } : {}) },
            auth: { basic: { user: fill(verify.clientId, this.spec.vars, false), password: value } },
          })
        : await this.http.call(method, path, { auth: { bearer: value } });
    if (res.ok || res.status === 400 || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return res.ok;
    }
    throw await this.http.rejected(res, method, path, [value]);
  }
}
