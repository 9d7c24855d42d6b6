import { createHash } from 'node:crypto';
import { createConnection, format, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { DatabaseIssuerSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { Secret } from '../../domain/secret';
import { adminCall, databaseError } from './database-errors';
import type { DatabaseDialect, LoginState } from './database-issuer';
import type { ServerLogin } from './postgres-issuer';

/** 1045 access denied (wrong password), 4151 account locked: the server refused the login. */
const REFUSED = new Set([1045, 4151]);
const TIMEOUT_MS = 5_000;
const NATIVE = 'mysql_native_password';

const sha1 = (data: string | Buffer): Buffer => createHash('sha1').update(data).digest();

/** mysql_native_password's stored form, '*' + HEX(SHA1(SHA1(password))), computed here so the server never sees the password. */
export function nativePasswordHash(password: Secret): string {
  return `*${sha1(sha1(password.reveal())).toString('hex').toUpperCase()}`;
}

/** MariaDB users ('user'@'host'): ALTER USER … IDENTIFIED BY / ACCOUNT LOCK, global_priv, processlist. */
export class MariaDbDialect implements DatabaseDialect {
  readonly sessionSource = 'information_schema.processlist';
  private readonly server: string;

  constructor(
    private readonly spec: Pick<DatabaseIssuerSpec, 'name' | 'host' | 'port' | 'database' | 'accountHost'>,
    private readonly admin: ServerLogin,
  ) {
    this.server = spec.name;
  }

  /**
   * The marker is the admin connection's id: sessions with a smaller id were opened before the change.
   * The statement carries the mysql_native_password hash, never the password: a statement's text is
   * visible in the processlist, the general log and performance_schema.
   */
  async setPassword(user: string, password: Secret): Promise<string> {
    return this.asAdmin('ALTER USER … IDENTIFIED BY PASSWORD', async (c) => {
      const [rows] = await c.query<RowDataPacket[]>(
        "SELECT JSON_VALUE(Priv, '$.plugin') AS plugin FROM mysql.global_priv WHERE User = ? AND Host = ?",
        [user, this.spec.accountHost],
      );
      const plugin = rows[0] ? String(rows[0]['plugin'] ?? '') : '';
      // Setting a hash switches the user to mysql_native_password: never silently, for another plugin.
      if (plugin !== '' && plugin !== NATIVE) {
        throw new RotatorError(
          'issuer_rejected',
          `${this.server} user ${user} authenticates with ${plugin}: only ${NATIVE} users can be rotated without sending the password`,
          { context: { server: this.server, plugin } },
        );
      }
      await c.query(
        format('ALTER USER ?@? IDENTIFIED BY PASSWORD ? ACCOUNT UNLOCK', [
          user,
          this.spec.accountHost,
          nativePasswordHash(password),
        ]),
      );
      const [id] = await c.query<RowDataPacket[]>('SELECT CONNECTION_ID() AS id');
      return String(id[0]!['id']);
    });
  }

  async lock(user: string): Promise<void> {
    await this.asAdmin('ALTER USER … ACCOUNT LOCK', (c) =>
      c.query(format('ALTER USER ?@? ACCOUNT LOCK', [user, this.spec.accountHost])),
    );
  }

  async state(user: string): Promise<LoginState> {
    return this.asAdmin('read mysql.global_priv', async (c) => {
      const [rows] = await c.query<RowDataPacket[]>(
        "SELECT JSON_VALUE(Priv, '$.account_locked') AS locked FROM mysql.global_priv WHERE User = ? AND Host = ?",
        [user, this.spec.accountHost],
      );
      if (rows.length === 0) return 'absent';
      // Shown as 1 or true depending on the server's JSON rendering.
      const locked = String(rows[0]!['locked']);
      return locked === '1' || locked === 'true' ? 'inactive' : 'active';
    });
  }

  async tryLogin(user: string, password: Secret): Promise<boolean> {
    let conn: Connection | undefined;
    try {
      conn = await this.connect(user, password.reveal());
      await conn.query('SELECT 1');
      return true;
    } catch (e) {
      if (REFUSED.has((e as { errno?: number }).errno ?? 0)) return false;
      throw databaseError(this.server, `login as ${user}`, e);
    } finally {
      await conn?.end().catch(() => undefined);
    }
  }

  async sessions(user: string, before?: string): Promise<number> {
    return this.asAdmin('read information_schema.processlist', async (c) => {
      const [rows] = await c.query<RowDataPacket[]>(
        'SELECT COUNT(*) AS n FROM information_schema.processlist WHERE USER = ? AND (? IS NULL OR ID < ?)',
        [user, before ?? null, before === undefined ? null : Number(before)],
      );
      return Number(rows[0]!['n']);
    });
  }

  private connect(user: string, password: string): Promise<Connection> {
    return createConnection({
      host: this.spec.host,
      port: this.spec.port,
      ...(this.spec.database ? { database: this.spec.database } : {}),
      user,
      password,
      connectTimeout: TIMEOUT_MS,
    });
  }

  private asAdmin<T>(what: string, fn: (c: Connection) => Promise<T>): Promise<T> {
    return adminCall(this.server, what, async () => {
      const conn = await this.connect(this.admin.user, (await this.admin.password()).reveal());
      conn.on('error', () => undefined);
      try {
        // mysql2 escapes with backslashes: a session that reads them literally would mangle a password.
        const [mode] = await conn.query<RowDataPacket[]>('SELECT @@SESSION.sql_mode AS m');
        const modes = String(mode[0]!['m']).split(',');
        if (modes.includes('NO_BACKSLASH_ESCAPES')) {
          const kept = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES').join(',');
          await conn.query('SET SESSION sql_mode = ?', [kept]);
        }
        return await fn(conn);
      } finally {
        await conn.end().catch(() => undefined);
      }
    });
  }
}
