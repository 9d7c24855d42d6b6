import { z } from 'zod';

/** A catalog field naming the environment variable that holds an admin secret (never the secret). */
export const envName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, 'an environment variable name');

/**
 * The value of the variable that catalog field `field` (e.g. `credentials[0] (x).issuer.adminTokenEnv`)
 * names; an unset or empty one is added to `problems`.
 */
export function requiredEnv(
  env: Record<string, string | undefined>,
  name: string,
  field: string,
  problems: string[],
): string | undefined {
  const value = env[name];
  if (!value) problems.push(`${field}: environment variable ${name} is not set`);
  return value;
}
