import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * What a run keeps (in Redis) to recognise a credential's value in a synced Kubernetes Secret
 * without keeping the value: `hmac-sha256:<salt>:<mac>` with a random salt per digest. A bare
 * sha256 of a value would let anyone who reads Redis test guesses against a precomputed table, and
 * a password a person chose (a manual rotation, a restored old value) may be guessable; salted, each
 * digest has to be attacked alone.
 */
const PREFIX = 'hmac-sha256';

export function valueDigest(value: string | Buffer, salt: string = randomBytes(16).toString('hex')): string {
  return `${PREFIX}:${salt}:${createHmac('sha256', salt).update(value).digest('hex')}`;
}

/** Whether `value` is the value `digest` was made of. A digest of another form never matches. */
export function matchesDigest(digest: string, value: Buffer): boolean {
  const [prefix, salt, mac] = digest.split(':');
  if (prefix !== PREFIX || !salt || !mac) return false;
  const expected = Buffer.from(valueDigest(value, salt));
  const given = Buffer.from(digest);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
