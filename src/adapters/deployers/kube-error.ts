import { ApiException } from '@kubernetes/client-node';
import { RotatorError } from '../../domain/errors';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** OpenSSL's verdicts on a server certificate (Node error codes): retrying never changes them. */
const TLS_CODE = /^(?:UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_SELF_SIGNED|CERT_|ERR_TLS_CERT|ERR_SSL_)[A-Z_]*$/;

function tlsCode(e: unknown): string | undefined {
  for (let cur: unknown = e, depth = 0; cur && depth < 3; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && TLS_CODE.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The Status reason (e.g. NotFound), never its message: a message may echo field values. */
function statusReason(body: unknown): string | undefined {
  if (typeof body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed === 'object' && parsed !== null && 'reason' in parsed) {
      const reason = (parsed as { reason?: unknown }).reason;
      if (typeof reason === 'string' && /^[A-Za-z]{1,64}$/.test(reason)) return reason;
    }
  } catch {
    // Not a Status object: the status code alone will do.
  }
  return undefined;
}

function networkCode(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  if ((e as { name?: unknown }).name === 'AbortError') return 'timeout';
  const { code, type } = e as { code?: unknown; type?: unknown };
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  // node-fetch marks every socket-level failure as a FetchError of type "system".
  return type === 'system' ? 'network error' : undefined;
}

/**
 * Turns what the client threw into a RotatorError naming the object (`what`, e.g.
 * "deployment prod/web-app") and the HTTP status or network failure. 404 and other 4xx are
 * permanent (`deploy_failed`); 429, 5xx, timeouts and connection failures are transient
 * (`deploy_unavailable`), with Retry-After carried as `context.retryAfterMs` (read by retryAfterOf).
 */
export function toDeployerError(e: unknown, action: string, what: string): RotatorError {
  if (e instanceof RotatorError) return e;
  const context = { action, target: what };
  if (e instanceof ApiException) {
    const status = e.code;
    const reason = statusReason(e.body);
    const suffix = `HTTP ${status}${reason ? ` ${reason}` : ''}`;
    if (status === 404) {
      return new RotatorError('deploy_failed', `${what} not found (${suffix})`, {
        context: { ...context, status },
      });
    }
    if (status === 429 || status >= 500) {
      const retryAfter = Number((e.headers as Record<string, string> | undefined)?.['retry-after']);
      return new RotatorError(
        'deploy_unavailable',
        `cannot ${action} ${what}: Kubernetes API answered ${suffix}`,
        {
          context: {
            ...context,
            status,
            ...(Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
          },
          transient: true,
        },
      );
    }
    return new RotatorError('deploy_failed', `cannot ${action} ${what}: Kubernetes API answered ${suffix}`, {
      context: { ...context, status },
    });
  }
  const tls = tlsCode(e);
  if (tls) {
    return new RotatorError(
      'deploy_failed',
      `cannot ${action} ${what}: the Kubernetes API's certificate is not trusted (${tls}); check the kubeconfig's certificate-authority`,
      { context: { ...context, network: tls } },
    );
  }
  const network = networkCode(e);
  if (network) {
    return new RotatorError(
      'deploy_unavailable',
      `cannot ${action} ${what}: Kubernetes API unreachable (${network})`,
      {
        context: { ...context, network },
        transient: true,
      },
    );
  }
  return new RotatorError('deploy_failed', `cannot ${action} ${what}: unexpected client error`, {
    context: { ...context, error: e instanceof Error ? e.name : typeof e },
  });
}

/** One attempt of a call, its failure as a RotatorError naming `what`: for callers that decide what a retry does. */
export async function once<T>(action: string, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toDeployerError(e, action, what);
  }
}
