/**
 * Coded errors. Messages name paths, ids and status codes, never values (CONVENTIONS 7, 8).
 * `transient` tells the step engine and BullMQ whether trying again can help.
 */
export type ErrorCode =
  | 'config_invalid'
  | 'catalog_invalid'
  | 'invalid_name'
  | 'unknown_credential'
  | 'locked'
  | 'not_allowed'
  | 'store_conflict'
  | 'store_permission_denied'
  | 'store_unavailable'
  | 'store_missing'
  | 'issuer_rate_limited'
  | 'issuer_rejected'
  | 'issuer_unavailable'
  | 'deploy_failed'
  | 'deploy_unavailable'
  | 'verify_failed'
  | 'old_key_in_use'
  | 'old_key_still_active'
  /** The issuer holds as many keys as it allows (IAM: two per user): no new key was requested. */
  | 'key_limit'
  | 'audit_unavailable'
  | 'queue_unavailable'
  | 'busy'
  | 'timeout'
  | 'internal';

export type SafeContext = Record<string, string | number | boolean | undefined>;

export class RotatorError extends Error {
  readonly code: ErrorCode;
  readonly context: SafeContext;
  readonly transient: boolean;

  constructor(code: ErrorCode, message: string, opts: { context?: SafeContext; transient?: boolean } = {}) {
    super(message);
    this.name = 'RotatorError';
    this.code = code;
    this.context = opts.context ?? {};
    this.transient = opts.transient ?? false;
  }
}

export function isRotatorError(e: unknown): e is RotatorError {
  return e instanceof RotatorError;
}

/** A message safe to show a user or write to a record, whatever was thrown. */
export function safeMessage(e: unknown): string {
  if (isRotatorError(e)) return e.message;
  return 'internal error (details in the worker log)';
}
