import { isRotatorError, type RotatorError } from '../../src/domain/errors';

/** The rejection of `p`, asserted to be a RotatorError (a resolved promise fails the test). */
export async function failure(p: Promise<unknown>): Promise<RotatorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isRotatorError(e)) throw new Error(`expected a RotatorError, got ${String(e)}`);
  return e;
}
