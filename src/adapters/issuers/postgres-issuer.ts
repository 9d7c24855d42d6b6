import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import type { DatabaseIssuerSpec } from '../../domain/credential';
import type { Secret } from '../../domain/secret';
import { adminCall, databaseError } from './database-errors';
import type { DatabaseDialect, LoginState } from './database-issuer';

export interface ServerLogin {
  user: string;
  password: () => Promise<Secret>;
}

/** 28P01 wrong password, 28000 not permitted to log in (NOLOGIN): the server refused the login. */
const REFUSED = new Set(['28P01', '28000']);
const TIMEOUT_MS = 5_000;

/**
 * The SCRAM-SHA-256 verifier PostgreSQL stores (RFC 7677, as psql's \password computes it): the
 * password itself never reaches the server, so no statement log or pg_stat_statements can hold it.
 */
export function scramVerifier(password: Secret, salt = randomBytes(16), iterations = 4096): string {
  const salted = pbkdf2Sync(password.reveal().normalize('NFKC'), salt, iterations, 32, 'sha256');
  const hmac = (key: Buffer, text: string) => createHmac('sha256', key).update(text).digest();
  const storedKey = createHash('sha256').update(hmac(salted, 'Client Key')).digest();
  const serverKey = hmac(salted, 'Server Key');
  const b64 = (b: Buffer) => b.toString('base64');
  return `SCRAM-SHA-256$${iterations}:${b64(salt)}$${b64(storedKey)}:${b64(serverKey)}`;
}

/** PostgreSQL roles: ALTER ROLE … LOGIN PASSWORD / NOLOGIN, pg_roles, pg_stat_activity. */
export class PostgresDialect implements DatabaseDialect {
  readonly sessionSource = 'pg_stat_activity';
  private readonly server: string;

  constructor(
    private readonly spec: Pick<DatabaseIssuerSpec, 'name' | 'host' | 'port' | 'database'>,
    private readonly admin: ServerLogin,
  ) {
    this.server = spec.name;
  }

  async setPassword(user: string, password: Secret): Promise<string> {
    return this.asAdmin('ALTER ROLE … PASSWORD', async (c) => {
      // ALTER ROLE takes no bind parameters: the driver's escaping is the only way in.
      await c.query(
        `ALTER ROLE ${escapeIdentifier(user)} WITH LOGIN PASSWORD ${escapeLiteral(scramVerifier(password))}`,
      );
      const r = await c.query<{ at: string }>(
        `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
      );
      return r.rows[0]!.at;
    });
  }

  async lock(user: string): Promise<void> {
    await this.asAdmin('ALTER ROLE … NOLOGIN', (c) =>
      c.query(`ALTER ROLE ${escapeIdentifier(user)} NOLOGIN`),
    );
  }

  async state(user: string): Promise<LoginState> {
    return this.asAdmin('read pg_roles', async (c) => {
      const r = await c.query<{ login: boolean }>(
        'SELECT rolcanlogin AS login FROM pg_roles WHERE rolname = $1',
        [user],
      );
      if (r.rows.length === 0) return 'absent';
      return r.rows[0]!.login ? 'active' : 'inactive';
    });
  }

  async tryLogin(user: string, password: Secret): Promise<boolean> {
    const client = this.client(user, password.reveal());
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch (e) {
      if (REFUSED.has((e as { code?: string }).code ?? '')) return false;
      throw databaseError(this.server, `login as ${user}`, e);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async sessions(user: string, before?: string): Promise<number> {
    return this.asAdmin('read pg_stat_activity', async (c) => {
      const r = await c.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1 AND ($2::timestamptz IS NULL OR backend_start < $2::timestamptz)',
        [user, before ?? null],
      );
      return r.rows[0]!.n;
    });
  }

  private client(user: string, password: string): Client {
    return new Client({
      host: this.spec.host,
      port: this.spec.port,
      database: this.spec.database ?? 'postgres',
      user,
      password,
      connectionTimeoutMillis: TIMEOUT_MS,
      query_timeout: TIMEOUT_MS,
      application_name: 'credential-rotator',
    });
  }

  private asAdmin<T>(what: string, fn: (c: Client) => Promise<T>): Promise<T> {
    return adminCall(this.server, what, async () => {
      const client = this.client(this.admin.user, (await this.admin.password()).reveal());
      // A connection that fails after connect() emits 'error'; the awaited call reports it instead.
      client.on('error', () => undefined);
      try {
        await client.connect();
        return await fn(client);
      } finally {
        await client.end().catch(() => undefined);
      }
    });
  }
}
