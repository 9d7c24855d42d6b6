import { isRotatorError, RotatorError } from '../domain/errors';

/** A flat HGETALL / Lua reply ([k1, v1, k2, v2, …]) as an object. */
export function pairs(flat: string[]): Record<string, string> {
  const h: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  return h;
}

/**
 * A Redis call made for a click or a command: any Redis failure becomes one coded, transient
 * "nothing was started", which the app's error handler words for the user.
 */
export async function requestCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isRotatorError(e)) throw e;
    throw new RotatorError('queue_unavailable', 'Redis is unavailable: nothing was started', {
      transient: true,
    });
  }
}
