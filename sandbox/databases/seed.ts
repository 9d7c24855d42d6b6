import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { createLogins, dropLogins, SERVERS, type DatabaseKind } from './logins';

/** A database issuer as the catalog file spells it (src/catalog-database.ts validates it). */
export interface CatalogDatabaseIssuer {
  kind: DatabaseKind;
  name: string;
  host?: string;
  port?: number;
  database?: string;
  strategy: 'single_user' | 'alternating_users';
  users: string[];
  admin: { user: string; passwordEnv?: string; passwordStore?: string };
}

export const isDatabaseIssuer = (issuer: { kind?: unknown }): issuer is CatalogDatabaseIssuer =>
  issuer.kind === 'postgres' || issuer.kind === 'mariadb';

/** The Kubernetes Secret's keys and the Vault fields they come from, for a database login. */
export const DATABASE_SECRET_FIELDS = [
  { secretKey: 'password', property: 'password' },
  { secretKey: 'username', property: 'username' },
];

export interface SeededDatabase {
  /** The store's first version: the current user's password and name (the seed's api_key_id too). */
  store: Record<string, string>;
  /** The admin password variable the catalog names, set to the machine's admin password (empty). */
  env: Record<string, string>;
  /** Drops the logins again. */
  drop(): Promise<void>;
}

/**
 * Points a catalog entry at the machine's server, creates its logins in it with random passwords,
 * and returns what the store starts with. Alternating pairs start on their first user.
 */
export async function seedDatabase(issuer: CatalogDatabaseIssuer): Promise<SeededDatabase> {
  const server = SERVERS[issuer.kind];
  issuer.host = server.host;
  issuer.port = server.port;
  issuer.admin = { user: server.admin, passwordEnv: issuer.admin.passwordEnv ?? 'DATABASE_ADMIN_PASSWORD' };
  const passwords = Object.fromEntries(issuer.users.map((u) => [u, randomBytes(18).toString('base64url')]));
  await createLogins(issuer.kind, passwords);
  const current = issuer.users[0]!;
  return {
    store: { password: passwords[current]!, username: current, api_key_id: current, previous_password: '' },
    env: { [issuer.admin.passwordEnv!]: '' },
    drop: () => dropLogins(issuer.kind, issuer.users),
  };
}

/** The demo's database credentials (sandbox/databases/catalog.yaml), to append to a catalog. */
export function demoDatabaseCredentials(): Array<Record<string, unknown>> {
  const text = readFileSync(join(__dirname, 'catalog.yaml'), 'utf8');
  return parse(text) as Array<Record<string, unknown>>;
}
