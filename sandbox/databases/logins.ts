/**
 * The database logins the demo and the tests rotate, created in the machine's real PostgreSQL and
 * MariaDB (sandbox/databases/ensure.sh starts them). The admin logins are the machine's own:
 * postgres over trust, root with an empty password. Every statement passes names and passwords
 * through the drivers' escaping.
 */
import { createConnection } from 'mysql2/promise';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';

export type DatabaseKind = 'postgres' | 'mariadb';

/** PostgreSQL asks members of this role for their password (pg_hba.conf, set by ensure.sh). */
export const PASSWORD_GROUP = 'rotator_password_auth';

export const SERVERS: Record<DatabaseKind, { host: string; port: number; database?: string; admin: string }> =
  {
    postgres: { host: '127.0.0.1', port: 5432, database: 'postgres', admin: 'postgres' },
    // No default database: a rotated user needs no grant to log in and run SELECT 1.
    mariadb: { host: '127.0.0.1', port: 3306, admin: 'root' },
  };

/** Connection options for `user` (the admin when omitted), without a database where there is none. */
const target = (kind: DatabaseKind, user?: string, password?: string) => {
  const s = SERVERS[kind];
  return {
    host: s.host,
    port: s.port,
    ...(s.database ? { database: s.database } : {}),
    user: user ?? s.admin,
    ...(password !== undefined ? { password } : {}),
  };
};

async function asPostgresAdmin<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client(target('postgres'));
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function asMariaDbAdmin<T>(fn: (c: import('mysql2/promise').Connection) => Promise<T>): Promise<T> {
  const c = await createConnection(target('mariadb'));
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Creates (or resets) each login with its password; PostgreSQL roles join the password group. */
export async function createLogins(kind: DatabaseKind, logins: Record<string, string>): Promise<void> {
  if (kind === 'postgres') {
    await asPostgresAdmin(async (c) => {
      for (const [user, password] of Object.entries(logins)) {
        const exists = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]);
        const verb = exists.rows.length > 0 ? 'ALTER' : 'CREATE';
        await c.query(`${verb} ROLE ${escapeIdentifier(user)} LOGIN PASSWORD ${escapeLiteral(password)}`);
        await c.query(`GRANT ${escapeIdentifier(PASSWORD_GROUP)} TO ${escapeIdentifier(user)}`);
      }
    });
    return;
  }
  await asMariaDbAdmin(async (c) => {
    for (const [user, password] of Object.entries(logins)) {
      await c.query('CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?', [user, '%', password]);
      await c.query('ALTER USER ?@? IDENTIFIED BY ? ACCOUNT UNLOCK', [user, '%', password]);
    }
  });
}

/** Drops the logins, closing their sessions first. */
export async function dropLogins(kind: DatabaseKind, users: string[]): Promise<void> {
  if (kind === 'postgres') {
    await asPostgresAdmin(async (c) => {
      for (const user of users) {
        await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1', [user]);
        await c.query(`DROP ROLE IF EXISTS ${escapeIdentifier(user)}`);
      }
    });
    return;
  }
  await asMariaDbAdmin(async (c) => {
    for (const user of users) await c.query('DROP USER IF EXISTS ?@?', [user, '%']);
  });
}

/** An open session as `user` (a consumer's pooled connection); close() ends it. */
export async function openSession(
  kind: DatabaseKind,
  user: string,
  password: string,
): Promise<{ close(): Promise<void> }> {
  if (kind === 'postgres') {
    const c = new Client(target(kind, user, password));
    c.on('error', () => undefined);
    await c.connect();
    return { close: () => c.end() };
  }
  const c = await createConnection(target(kind, user, password));
  c.on('error', () => undefined);
  return { close: () => c.end() };
}

/** pg: 28P01 wrong password, 28000 NOLOGIN; MariaDB: 1045 access denied, 4151 account locked. */
const refused = (e: unknown): boolean => {
  const { code, errno } = e as { code?: unknown; errno?: unknown };
  return code === '28P01' || code === '28000' || errno === 1045 || errno === 4151;
};

/**
 * Whether the server lets `user` in with `password` (a consumer's health check). Only a refused
 * login is false: a server that cannot be reached throws, so it never passes for a revocation.
 */
export async function loginWorks(kind: DatabaseKind, user: string, password: string): Promise<boolean> {
  try {
    const session = await openSession(kind, user, password);
    await session.close();
    return true;
  } catch (e) {
    if (refused(e)) return false;
    throw e;
  }
}
