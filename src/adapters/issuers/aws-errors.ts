import type { ErrorCode } from '../../domain/errors';

interface AwsLike {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $fault?: unknown;
}

const statusOf = (e: unknown): number | undefined => {
  const s = (e as AwsLike | undefined)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
};

/** The AWS error code: modeled errors are named `<Code>Exception` by the SDK, others by the code. */
export function awsCode(e: unknown): string | undefined {
  const name = (e as AwsLike | undefined)?.name;
  if (typeof name !== 'string' || !/^[A-Za-z.]{1,64}$/.test(name)) return undefined;
  return name.replace(/Exception$/, '');
}

export const isNoSuchEntity = (e: unknown): boolean => awsCode(e) === 'NoSuchEntity';

/**
 * AWS refused the signing key itself: unknown, inactive, not yet propagated, or wrong secret.
 * AccessDenied is not among them: AWS says it only after the signature was accepted (a
 * least-privilege key without the permission asked for).
 */
export const isRejectedKey = (e: unknown): boolean =>
  ['InvalidClientTokenId', 'SignatureDoesNotMatch', 'UnrecognizedClient'].includes(awsCode(e) ?? '');

/** AWS authenticated the signing key and refused the action: the key itself is valid. */
export const isAccessDenied = (e: unknown): boolean => awsCode(e) === 'AccessDenied';

/** AWS answered and refused: the request did not land, and repeating it will not help. */
export const isDefiniteRejection = (e: unknown): boolean => {
  const s = statusOf(e);
  return s !== undefined && s >= 400 && s < 500 && awsCode(e) !== 'Throttling';
};

/** An AWS SDK failure as an error code, a safe description (code and status, never a message) and whether to retry. */
export function awsFailure(e: unknown): {
  code: ErrorCode;
  what: string;
  transient: boolean;
  status?: number;
} {
  const status = statusOf(e);
  const code = awsCode(e);
  if (code === 'Throttling' || status === 429)
    return {
      code: 'issuer_rate_limited',
      what: `${code ?? 'throttled'} (${status ?? '?'})`,
      transient: true,
      ...(status ? { status } : {}),
    };
  if (status !== undefined && status < 500) {
    const hint = status === 403 ? ' (check the admin access key and its IAM permissions)' : '';
    return {
      code: 'issuer_rejected',
      what: `${code ?? 'rejected'} (${status})${hint}`,
      transient: false,
      status,
    };
  }
  const what = status !== undefined ? `${code ?? 'ServiceFailure'} (${status})` : networkReason(e);
  return { code: 'issuer_unavailable', what, transient: true, ...(status ? { status } : {}) };
}

function networkReason(e: unknown): string {
  const name = (e as AwsLike | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') return 'timed out';
  const code = (e as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /^[A-Z_]{2,40}$/.test(code) ? `network error ${code}` : 'network error';
}
