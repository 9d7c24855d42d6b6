import { z } from 'zod';
import { DATABASE_STRATEGIES, type DatabaseIssuerSpec } from './domain/credential';
import { envName } from './catalog-env';
import { Secret } from './domain/secret';

/** PostgreSQL role and MariaDB user names the rotator manages: plain identifiers, nothing to quote. */
const dbUser = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'a plain database user name');

/**
 * A database issuer in the catalog. The admin password is named, never written: an environment
 * variable (`passwordEnv`, may be empty for a trust/socket login) or a store path (`passwordStore`,
 * read when a connection is opened).
 */
export const databaseIssuerSchema = z
  .object({
    kind: z.enum(['postgres', 'mariadb']),
    name: z.string().min(1),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(1).max(65_535).optional(),
    database: z.string().min(1).optional(),
    strategy: z.enum(DATABASE_STRATEGIES),
    users: z.array(dbUser).min(1).max(2),
    accountHost: z.string().min(1).max(255).default('%'),
    admin: z
      .object({
        user: z.string().min(1),
        passwordEnv: envName.optional(),
        passwordStore: z
          .string()
          .regex(/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)+$/, 'a KV path')
          .optional(),
      })
      .strict(),
    /** Alternating users: how long connections on the old login may take to close before the lock is refused. */
    drainTimeoutSeconds: z.number().int().min(0).max(86_400).default(1_800),
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

type RawDatabaseIssuer = z.infer<typeof databaseIssuerSchema>;

/** The validated spec; problems (wrong user count, admin password source) are appended to `problems`. */
export function buildDatabaseIssuer(
  raw: RawDatabaseIssuer,
  env: Record<string, string | undefined>,
  at: string,
  problems: string[],
): DatabaseIssuerSpec {
  const want = raw.strategy === 'single_user' ? 1 : 2;
  if (raw.users.length !== want || new Set(raw.users).size !== raw.users.length)
    problems.push(`${at}.issuer.users: ${raw.strategy} needs exactly ${want} distinct user(s)`);
  if (raw.users.includes(raw.admin.user))
    problems.push(`${at}.issuer.admin.user: the admin login must not be one of the rotated users`);
  const { passwordEnv, passwordStore } = raw.admin;
  if ((passwordEnv === undefined) === (passwordStore === undefined))
    problems.push(`${at}.issuer.admin: name exactly one of passwordEnv and passwordStore`);
  // An empty variable is a password too (trust or socket authentication); an unset one is a mistake.
  if (passwordEnv !== undefined && env[passwordEnv] === undefined)
    problems.push(`${at}.issuer.admin.passwordEnv: environment variable ${passwordEnv} is not set`);
  const postgres = raw.kind === 'postgres';
  return {
    kind: raw.kind,
    name: raw.name,
    host: raw.host,
    port: raw.port ?? (postgres ? 5432 : 3306),
    ...(raw.database || postgres ? { database: raw.database ?? 'postgres' } : {}),
    strategy: raw.strategy,
    users: raw.users,
    accountHost: raw.accountHost,
    admin: {
      user: raw.admin.user,
      password: passwordStore
        ? { from: 'store', path: passwordStore }
        : { from: 'env', value: new Secret(env[passwordEnv ?? ''] ?? '') },
    },
    drainTimeoutMs: raw.drainTimeoutSeconds * 1000,
    ...(raw.maxConcurrent ? { maxConcurrent: raw.maxConcurrent } : {}),
  };
}
