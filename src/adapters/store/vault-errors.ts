import { RotatorError } from '../../domain/errors';
import { TROUBLESHOOTING } from '../../domain/troubleshooting';

export interface CallContext {
  operation: 'read' | 'write' | 'patch' | 'list';
  /** The logical path, e.g. secret/data/api-credentials/x. */
  path: string;
  cas?: number;
  timeoutMs: number;
}

/** The HTTP status of node-vault's ApiResponseError, if that is what `e` is. */
export function vaultStatus(e: unknown): number | undefined {
  const status = (e as { response?: { statusCode?: unknown } } | undefined)?.response?.statusCode;
  return typeof status === 'number' ? status : undefined;
}

const NETWORK_CODE = /^(E[A-Z]+|ERR_[A-Z_]+)$/;
const TIMEOUT_CODES = new Set(['ECONNABORTED', 'ETIMEDOUT', 'ERR_CANCELED']);

/**
 * Maps whatever node-vault threw to a RotatorError. node-vault's errors carry the response body
 * and axios's carry the request (with the value being written): neither is ever passed on, only
 * the operation, path, status and a network error code.
 */
export function toStoreError(e: unknown, ctx: CallContext): RotatorError {
  const { operation, path } = ctx;
  const status = vaultStatus(e);
  const context = { operation, path, status };
  if (status !== undefined) {
    const message = e instanceof Error ? e.message : '';
    if (status === 400 && message.includes('check-and-set parameter did not match')) {
      return new RotatorError(
        'store_conflict',
        `Vault refused ${operation} of ${path}: check-and-set version ${ctx.cas ?? '?'} is no longer current (400)`,
        { context },
      );
    }
    if (status === 403) {
      const row = TROUBLESHOOTING.vault_permission_denied;
      return new RotatorError(
        'store_permission_denied',
        `Vault denied ${operation} on ${path} (403 permission denied): ${row.cause.toLowerCase()}; ${row.resolution.toLowerCase()}`,
        { context },
      );
    }
    if (status === 404) {
      return new RotatorError('store_missing', `Vault has nothing at ${path} to ${operation} (404)`, {
        context,
      });
    }
    if (status === 429 || status >= 500) {
      return new RotatorError('store_unavailable', `Vault answered ${status} to ${operation} ${path}`, {
        context,
        transient: true,
      });
    }
    return new RotatorError('internal', `Vault answered ${status} to ${operation} ${path}`, { context });
  }
  const code = (e as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
    return new RotatorError(
      'store_unavailable',
      `Vault did not answer ${operation} ${path} within ${ctx.timeoutMs} ms`,
      { context: { operation, path, code }, transient: true },
    );
  }
  if (typeof code === 'string' && NETWORK_CODE.test(code)) {
    return new RotatorError('store_unavailable', `Vault unreachable for ${operation} ${path} (${code})`, {
      context: { operation, path, code },
      transient: true,
    });
  }
  return new RotatorError('internal', `Vault client failed on ${operation} ${path}`, {
    context: { operation, path },
  });
}
