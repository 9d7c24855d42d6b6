import { RotatorError, type ErrorCode, type SafeContext } from '../../domain/errors';
import type { KeyStatus } from '../../domain/ports';
import type { Secret } from '../../domain/secret';
import { DEFAULT_RETRY, retryAfterFromHeaders, withRetry, type RetryOptions } from '../retry';
import { httpFetch } from './http-fetch';

export interface IssuerHttpOptions {
  baseUrl: string;
  adminToken: Secret;
  fetch?: typeof fetch;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

/** How a call authenticates: the admin token (default), a value as bearer, or HTTP Basic (OAuth clients). */
export type CallAuth = { bearer: Secret } | { basic: { user: string; password: Secret } };

export interface CallOptions {
  json?: unknown;
  form?: Record<string, string>;
  auth?: CallAuth;
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

/** Providers' words for a key's state, as the domain names them. */
export const KEY_STATUS: Record<string, KeyStatus> = {
  active: 'active',
  enabled: 'active',
  inactive: 'inactive',
  disabled: 'inactive',
  revoked: 'revoked',
  deleted: 'revoked',
};

/** The provider's error code (e.g. "unauthorized"), only when it looks like a code and not free text. */
async function errorCodeOf(res: Response, secrets: Secret[]): Promise<string> {
  const text = await res.text().catch(() => '');
  try {
    const code = (JSON.parse(text) as { error?: unknown }).error;
    const echoes = typeof code === 'string' && secrets.some((s) => code.includes(s.reveal()));
    if (typeof code === 'string' && /^[a-z_]{1,40}$/.test(code) && !echoes) return ` ${code}`;
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

function authorization(auth: CallAuth): string {
  if ('bearer' in auth) return `Bearer ${auth.bearer.reveal()}`;
  // RFC 6749 2.3.1: client id and secret are form-urlencoded, then used as Basic user and password.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  const pair = `${enc(auth.basic.user)}:${enc(auth.basic.password.reveal())}`;
  return `Basic ${Buffer.from(pair).toString('base64')}`;
}

/**
 * HTTP to an issuer's admin API, shared by the issuers that speak JSON over HTTP: a timeout on every
 * call; 429 waits for the advertised reset; 5xx and network errors are retried with backoff. Error
 * texts name the host, method, path and status only, never a body, value or token.
 */
export class IssuerHttp {
  readonly host: string;
  private readonly base: string;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;

  constructor(private readonly opts: IssuerHttpOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.host = new URL(this.base).host;
    this.fetchFn = opts.fetch ?? httpFetch;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retry = { ...DEFAULT_RETRY, retryable: (e) => e instanceof TransientFailure, ...opts.retry };
  }

  /** One logical call: bounded retries on 429 / 5xx / timeout / network; other answers returned. */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
    const auth = opts.auth ?? { bearer: this.opts.adminToken };
    let attempts = 0;
    try {
      return await withRetry(async () => {
        attempts += 1;
        let res: Response;
        try {
          res = await this.fetchFn(`${this.base}${path}`, {
            method,
            headers: { authorization: authorization(auth), accept: 'application/json', ...contentType(opts) },
            ...body(opts),
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

  /** The answer's JSON object (or array); an unexpected body is an `issuer_rejected` error. */
  async json(res: Response, method: string, path: string): Promise<Record<string, unknown>> {
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

  /** A 4xx answer as an error, with the provider's error code when it is a plain code. */
  async rejected(res: Response, method: string, path: string, extra: Secret[] = []): Promise<RotatorError> {
    const code = await errorCodeOf(res, [this.opts.adminToken, ...extra]);
    const hint =
      res.status === 401 || res.status === 403 ? ' (check the admin token and its permissions)' : '';
    const context = { method, path, status: res.status };
    return this.error('issuer_rejected', `rejected ${method} ${path}: ${res.status}${code}${hint}`, context);
  }

  /** Every error names the provider's host; context holds ids and statuses only. */
  error(code: ErrorCode, text: string, context: SafeContext, transient = false): RotatorError {
    return new RotatorError(code, `${this.host} ${text}`, {
      transient,
      context: { host: this.host, ...context },
    });
  }
}

function contentType(opts: CallOptions): Record<string, string> {
  if (opts.form) return { 'content-type': 'application/x-www-form-urlencoded' };
  if (opts.json !== undefined) return { 'content-type': 'application/json' };
  return {};
}

function body(opts: CallOptions): { body?: string } {
  if (opts.form) return { body: new URLSearchParams(opts.form).toString() };
  if (opts.json !== undefined) return { body: JSON.stringify(opts.json) };
  return {};
}
