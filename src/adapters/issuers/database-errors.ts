import { RotatorError } from '../../domain/errors';
import { DEFAULT_RETRY, withRetry } from '../retry';

/** Node's network error codes: the server is unreachable, or the answer was lost; worth another try. */
const NETWORK =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|PROTOCOL_CONNECTION_LOST)$/;

const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z0-9_]{2,40}$/.test(code) ? code : undefined;
};

const isTimeout = (e: unknown): boolean => e instanceof Error && /timeout/i.test(e.message);

/**
 * A driver error as a RotatorError naming the server, the operation and the error's code only: a
 * driver's message can quote the statement, and the statement holds the password.
 */
export function databaseError(server: string, what: string, e: unknown): RotatorError {
  if (e instanceof RotatorError) return e;
  const code = codeOf(e);
  if ((code && NETWORK.test(code)) || isTimeout(e)) {
    return new RotatorError('issuer_unavailable', `${server} ${what}: ${code ?? 'timed out'}`, {
      transient: true,
      context: { server, code },
    });
  }
  return new RotatorError('issuer_rejected', `${server} refused ${what}${code ? `: ${code}` : ''}`, {
    context: { server, code },
  });
}

/** One admin operation with bounded retries on network trouble; errors come out as `databaseError`. */
export function adminCall<T>(server: string, what: string, fn: () => Promise<T>): Promise<T> {
  return withRetry(
    async () => {
      try {
        return await fn();
      } catch (e) {
        throw databaseError(server, what, e);
      }
    },
    { ...DEFAULT_RETRY, attempts: 3, retryable: (e) => e instanceof RotatorError && e.transient },
  );
}
