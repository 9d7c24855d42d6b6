import type { Consumer, HealthCheck } from '../../domain/credential';
import type { HealthChecker, HealthResult } from '../../domain/ports';
import { retryAfterFromHeaders, withRetry, type RetryOptions } from '../retry';

export interface HttpHealthCheckerOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
}

/** Verification polls again soon anyway, so the retries here are few and short. */
const HEALTH_RETRY: Omit<RetryOptions, 'retryable'> = { attempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };

/** A 5xx answer or no answer; retried, then reported as unhealthy. */
class Unanswered extends Error {
  constructor(
    readonly result: Omit<HealthResult, 'consumer'>,
    readonly retryAfterMs?: number,
  ) {
    super(result.detail);
  }
}

/** Reads a possibly dotted field ("checks.payment_gateway") out of a parsed JSON body. */
function fieldOf(body: unknown, field: string): unknown {
  let v: unknown = body;
  for (const part of field.split('.')) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** Health answers are the application's text: keep them short and blank out anything token-like. */
function shown(v: unknown): string {
  if (v === undefined) return 'missing';
  const text = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return text.replace(/[A-Za-z0-9+/=_-]{24,}/g, '[redacted]').slice(0, 80);
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function judge(status: number, text: string, check: HealthCheck): Omit<HealthResult, 'consumer'> {
  const body = parse(text);
  const parts = [String(status)];
  let ok = status >= 200 && status < 300;
  if (check.expect) {
    const actual = fieldOf(body, check.expect.field);
    parts.push(`${check.expect.field}=${shown(actual)}`);
    if (actual !== check.expect.equals) {
      ok = false;
      if (status >= 200 && status < 300) parts.push(`expected ${shown(check.expect.equals)}`);
    }
  } else if (fieldOf(body, 'status') !== undefined) {
    parts.push(`status=${shown(fieldOf(body, 'status'))}`);
  }
  const error = fieldOf(body, 'error');
  if (!ok && error !== undefined) parts.push(`error=${shown(error)}`);
  return { ok, status, detail: parts.join(', ') };
}

function networkReason(e: unknown): string {
  if (e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError')) return 'timed out';
  const code = (e as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? `no answer (${code})` : 'no answer';
}

/**
 * The runbook's verification step: GET each consumer's health URL; healthy = 2xx and, when declared,
 * the JSON field equals the expected value (e.g. payment_gateway = connected). Never throws for an
 * unhealthy or unreachable consumer: it answers ok:false with the status and the field's value.
 */
export class HttpHealthChecker implements HealthChecker {
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;

  constructor(opts: HttpHealthCheckerOptions = {}) {
    this.fetchFn = opts.fetch ?? fetch;
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retry = { ...HEALTH_RETRY, retryable: (e) => e instanceof Unanswered, ...opts.retry };
  }

  /** One verification of one consumer (with a few quick retries on 5xx / no answer). */
  async check(consumer: Consumer): Promise<HealthResult> {
    const health = consumer.health;
    if (!health) return { consumer: consumer.name, ok: true, detail: 'no health check declared' };
    let attempts = 0;
    try {
      const result = await withRetry(async () => {
        attempts += 1;
        return this.once(health);
      }, this.retry);
      return { consumer: consumer.name, ...result };
    } catch (e) {
      if (!(e instanceof Unanswered)) throw e;
      const suffix = attempts > 1 ? ` (after ${attempts} attempts)` : '';
      return { consumer: consumer.name, ...e.result, detail: `${e.result.detail}${suffix}` };
    }
  }

  private async once(health: HealthCheck): Promise<Omit<HealthResult, 'consumer'>> {
    let status: number;
    let text: string;
    let retryAfterMs: number | undefined;
    try {
      const res = await this.fetchFn(health.url, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      retryAfterMs = retryAfterFromHeaders(res.headers);
      text = await res.text();
    } catch (e) {
      throw new Unanswered({ ok: false, detail: networkReason(e) });
    }
    const result = judge(status, text, health);
    if (status >= 500) throw new Unanswered(result, retryAfterMs);
    return result;
  }
}
