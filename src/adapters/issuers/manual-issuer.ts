import { RotatorError } from '../../domain/errors';
import type { ManualIssuerSpec } from '../../domain/credential';
import type { IssuedKeyInfo, Issuer, KeyStatus } from '../../domain/ports';
import { Secret } from '../../domain/secret';
import type { RetryOptions } from '../retry';
import { IssuerHttp } from './issuer-http';

export interface ManualIssuerOptions {
  spec: ManualIssuerSpec;
  fetch?: typeof fetch;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

/**
 * The issuer of a credential a person rotates at a console: nothing can be created, listed or
 * revoked through it (the guided procedure asks the person instead). Where the catalog gives a test
 * URL, it tells whether a value is accepted, through the shared IssuerHttp.
 */
export class ManualIssuer implements Issuer {
  private readonly http?: IssuerHttp;
  private readonly path: string = '/';

  constructor(private readonly opts: ManualIssuerOptions) {
    if (opts.spec.testUrl) {
      const url = new URL(opts.spec.testUrl);
      this.path = `${url.pathname}${url.search}`;
      this.http = new IssuerHttp({
        baseUrl: url.origin,
        // The test URL is called only with the value under test, never with an admin token.
        adminToken: new Secret(''),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
        ...(opts.retry ? { retry: opts.retry } : {}),
      });
    }
  }

  /** Whether a test URL is configured: only then can the bot prove a value works or is rejected. */
  get canTest(): boolean {
    return this.http !== undefined;
  }

  create(): Promise<{ keyId: string; value: Secret }> {
    return Promise.reject(this.byHand('create a key'));
  }

  /** Keys made by hand are not listed anywhere the bot can see: no orphans to sweep. */
  list(): Promise<IssuedKeyInfo[]> {
    return Promise.resolve([]);
  }

  /** Unknown to the bot: reported as absent, so nothing is decided on a guess about it. */
  status(): Promise<KeyStatus> {
    return Promise.resolve('absent');
  }

  revoke(): Promise<void> {
    return Promise.reject(this.byHand('revoke a key'));
  }

  lastUsed(): Promise<Date | undefined> {
    return Promise.resolve(undefined);
  }

  /** GET the test URL bearing the value: 2xx accepted, 401/403 rejected. */
  async accepts(value: Secret): Promise<boolean> {
    if (!this.http) throw this.byHand('test a value (no testUrl in the catalog)');
    const res = await this.http.call('GET', this.path, { auth: { bearer: value } });
    if (res.ok || res.status === 401 || res.status === 403) {
      await res.body?.cancel();
      return res.ok;
    }
    throw await this.http.rejected(res, 'GET', this.path, [value]);
  }

  private byHand(what: string): RotatorError {
    const where = this.opts.spec.consoleUrl ?? this.opts.spec.name;
    return new RotatorError(
      'issuer_rejected',
      `${this.opts.spec.name} is rotated by hand: ${what} at ${where}`,
    );
  }
}
