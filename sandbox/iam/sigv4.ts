import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** Why AWS would refuse a request's signature: the error code, HTTP status and AWS's own message. */
export interface AuthFailure {
  code:
    'MissingAuthenticationToken' | 'IncompleteSignature' | 'InvalidClientTokenId' | 'SignatureDoesNotMatch';
  status: number;
  message: string;
}

export interface SignedRequest {
  method: string;
  /** Path and query as sent, e.g. "/" or "/?Action=…". */
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What a valid signature proves: the access key that signed and the credential scope's region. */
export interface Authenticated {
  accessKeyId: string;
  region: string;
}

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses a request signed more than 15 minutes away from its clock. */
const MAX_SKEW_MS = 15 * 60_000;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');
const hmac = (key: Buffer | string, s: string): Buffer =>
  createHmac('sha256', key).update(s, 'utf8').digest();

/** RFC 3986 encoding as SigV4 specifies it: everything but A-Z a-z 0-9 - _ . ~ is %XX (upper case). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Canonical query string: names and values encoded, sorted by name then value. */
function canonicalQuery(search: string): string {
  const pairs = [...new URLSearchParams(search)].map(([k, v]) => [uriEncode(k), uriEncode(v)] as const);
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Each path segment URI-encoded (non-S3 services encode the already-encoded path once more). */
function canonicalUri(pathname: string): string {
  const segments = pathname.split('/').map((seg) => uriEncode(decodeURIComponent(seg)));
  const path = segments.join('/');
  return uriEncode(path).replace(/%2F/g, '/') || '/';
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v.join(',') : String(v)).trim().replace(/\s+/g, ' ');
}

const fail = (code: AuthFailure['code'], status: number, message: string): AuthFailure => ({
  code,
  status,
  message,
});

/** "20240101T000000Z" → epoch ms; NaN when malformed. */
function parseAmzDate(s: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return Number.NaN;
  return Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
}

/**
 * Verifies an AWS Signature Version 4 `Authorization` header the way AWS does: the credential
 * scope (date, region, service, aws4_request), the signed headers (host and x-amz-date among them),
 * the canonical request over method, path, query, headers and the payload's SHA-256, and the HMAC
 * chain from the secret key. `secretOf` answers the secret of a known access key id.
 */
export function verifySigV4(
  req: SignedRequest,
  secretOf: (accessKeyId: string) => string | undefined,
  opts: { service: string; regions: string[]; nowMs: number },
): Authenticated | AuthFailure {
  const auth = headerValue(req.headers, 'authorization');
  if (!auth) return fail('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
  const m = new RegExp(`^${ALGORITHM} (.*)$`).exec(auth);
  if (!m) {
    return fail('IncompleteSignature', 400, `Authorization header requires '${ALGORITHM}' algorithm.`);
  }
  const parts = new Map<string, string>();
  for (const p of m[1]!.split(',')) {
    const eq = p.indexOf('=');
    if (eq > 0) parts.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const credential = parts.get('Credential');
  const signedHeaders = parts.get('SignedHeaders');
  const signature = parts.get('Signature');
  if (!credential || !signedHeaders || !signature) {
    const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((k) => !parts.get(k));
    return fail(
      'IncompleteSignature',
      400,
      `Authorization header requires ${missing.map((k) => `'${k}'`).join(', ')} parameter(s). Authorization=${ALGORITHM}`,
    );
  }
  const [accessKeyId, date, region, service, terminator, ...extra] = credential.split('/');
  if (!accessKeyId || !date || !region || !service || terminator !== 'aws4_request' || extra.length) {
    return fail(
      'IncompleteSignature',
      400,
      `Credential should be scoped to a valid region. Credential=${credential}`,
    );
  }
  const secret = secretOf(accessKeyId);
  if (secret === undefined) {
    return fail('InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
  }
  if (service !== opts.service) {
    return fail(
      'SignatureDoesNotMatch',
      403,
      `Credential should be scoped to correct service: '${opts.service}'. `,
    );
  }
  if (!opts.regions.includes(region)) {
    return fail('SignatureDoesNotMatch', 403, 'Credential should be scoped to a valid region. ');
  }
  const names = signedHeaders.split(';');
  const amzDate = headerValue(req.headers, 'x-amz-date');
  if (!names.includes('host') || !amzDate || !names.includes('x-amz-date')) {
    return fail(
      'IncompleteSignature',
      400,
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  const signedAt = parseAmzDate(amzDate);
  if (Number.isNaN(signedAt) || amzDate.slice(0, 8) !== date) {
    return fail(
      'SignatureDoesNotMatch',
      403,
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${date}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (Math.abs(opts.nowMs - signedAt) > MAX_SKEW_MS) {
    const iso = (ms: number) => new Date(ms).toISOString().replace(/[-:]|\.\d{3}/g, '');
    return fail(
      'SignatureDoesNotMatch',
      403,
      `Signature expired: ${amzDate} is now earlier than ${iso(opts.nowMs - MAX_SKEW_MS)} (${iso(opts.nowMs)} - 15 min.)`,
    );
  }
  const url = new URL(req.url, 'http://double.local');
  const canonicalHeaders = names.map((n) => `${n}:${headerValue(req.headers, n) ?? ''}\n`).join('');
  const payloadHash = headerValue(req.headers, 'x-amz-content-sha256') ?? sha256(req.body);
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(url.pathname),
    canonicalQuery(url.search),
    canonicalHeaders,
    signedHeaders,
    payloadHash,
  ].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${secret}`, date);
  for (const s of [region, service, 'aws4_request']) key = hmac(key, s);
  const expected = hmac(key, stringToSign).toString('hex');
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, Buffer.from(expected))) {
    return fail(
      'SignatureDoesNotMatch',
      403,
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
  return { accessKeyId, region };
}

export const isAuthFailure = (v: Authenticated | AuthFailure): v is AuthFailure => 'code' in v;
