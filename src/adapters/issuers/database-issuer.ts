import { randomBytes } from 'node:crypto';
import type { DatabaseIssuerSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type {
  IssuedKeyInfo,
  Issuer,
  KeyStatus,
  OpenSessions,
  SecretStore,
  StoredCredential,
} from '../../domain/ports';
import { Secret } from '../../domain/secret';

/** What a login's account looks like to the server: can log in, locked (NOLOGIN / ACCOUNT LOCK), absent. */
export type LoginState = 'active' | 'inactive' | 'absent';

/**
 * The SQL one server speaks, behind the issuer's rotation logic. Every identifier and password
 * reaches the server through the driver's escaping or parameters, never by string concatenation.
 */
export interface DatabaseDialect {
  /** Where open sessions are read, for reports: pg_stat_activity, information_schema.processlist. */
  readonly sessionSource: string;
  /** Sets the password and lets the user log in; returns a marker of the change (see `sessionsBefore`). */
  setPassword(user: string, password: Secret): Promise<string>;
  /** NOLOGIN / ACCOUNT LOCK: new logins refused, open sessions untouched. */
  lock(user: string): Promise<void>;
  state(user: string): Promise<LoginState>;
  /** Logs in as `user` and runs a harmless query; false when the server refuses the login. */
  tryLogin(user: string, password: Secret): Promise<boolean>;
  /** Sessions open as `user`; with a marker from `setPassword`, only those opened before that change. */
  sessions(user: string, before?: string): Promise<number>;
}

export interface DatabaseIssuerOptions {
  spec: DatabaseIssuerSpec;
  /** The credential's name: its logins are labelled rotator/<credential>/ for the orphan sweep. */
  credential: string;
  /** Where the credential itself is stored: which user is current, and since which change. */
  storePath: string;
  store: SecretStore;
  dialect: DatabaseDialect;
  /** New passwords; default 32 random bytes, base64url (no character needs quoting in a DSN). */
  generatePassword?: () => string;
}

/** A single user's key id: the user and the marker of the password change, e.g. app#2026-11-05T10:00:00.000Z. */
const SEPARATOR = '#';

/**
 * Issuer for PostgreSQL roles and MariaDB users. A key is a login: for alternating users the key id
 * is the user name (app_a / app_b), for a single user it is the user plus the marker of the
 * password change, since every rotation replaces that user's password in place.
 */
export class DatabaseIssuer implements Issuer {
  private readonly spec: DatabaseIssuerSpec;
  private readonly dialect: DatabaseDialect;
  private readonly generatePassword: () => string;

  constructor(private readonly opts: DatabaseIssuerOptions) {
    this.spec = opts.spec;
    this.dialect = opts.dialect;
    this.generatePassword = opts.generatePassword ?? (() => randomBytes(32).toString('base64url'));
  }

  private get single(): boolean {
    return this.spec.strategy === 'single_user';
  }

  /**
   * Single user: a new password for that user (the old one stops working now). Alternating: a new
   * password for the user the store does not name as current, which is unlocked; the current one
   * is left alone until revocation.
   */
  async create(_label?: string): Promise<{ keyId: string; value: Secret }> {
    const value = new Secret(this.generatePassword());
    if (this.single) {
      const user = this.spec.users[0]!;
      const marker = await this.dialect.setPassword(user, value).catch(async (e: unknown) => {
        throw await this.afterLostChange(user, e);
      });
      return { keyId: `${user}${SEPARATOR}${marker}`, value };
    }
    const idle = await this.idleUser();
    await this.dialect.setPassword(idle, value);
    return { keyId: idle, value };
  }

  /**
   * Alternating users: both, so a login left usable and unknown to the store is swept (locked).
   * Single user: none, since there is no second password that could be orphaned.
   */
  async list(): Promise<IssuedKeyInfo[]> {
    if (this.single) return [];
    const label = `rotator/${this.opts.credential}/alternating`;
    return Promise.all(
      this.spec.users.map(async (user) => ({
        keyId: user,
        label,
        status: await this.dialect.state(user),
        createdAt: '',
      })),
    );
  }

  /** A login's state; a single user's older passwords are `revoked` (replaced), the stored one its user's state. */
  async status(keyId: string): Promise<KeyStatus> {
    const user = this.userOf(keyId);
    if (!user) return 'absent';
    const state = await this.dialect.state(user);
    if (!this.single || state === 'absent') return state;
    const current = await this.current();
    return current?.keyId === keyId ? state : 'revoked';
  }

  /**
   * Alternating: locks the login. Single user: a password never stored (lost with a crashed worker,
   * or a failed run's) is replaced by the one the store serves, so the stored login works again; an
   * older stored password is already gone, replaced by `create`.
   */
  async revoke(keyId: string): Promise<void> {
    const user = this.userOf(keyId);
    if (!user) return;
    if (!this.single) return this.dialect.lock(user);
    const current = await this.current();
    if (!current?.value || keyId === current.keyId || keyId === current.previousKeyId) return;
    await this.dialect.setPassword(user, current.value);
  }

  /** Database servers keep no last-use time per password; open sessions are reported instead. */
  async lastUsed(): Promise<Date | undefined> {
    return undefined;
  }

  /** Whether any of this credential's logins accepts the value: logs in and runs SELECT 1. */
  async accepts(value: Secret): Promise<boolean> {
    for (const user of this.spec.users) if (await this.dialect.tryLogin(user, value)) return true;
    return false;
  }

  /**
   * Alternating: sessions open as the old user, and whether it can still log in. Single user: the
   * sessions opened before the stored password was set (they authenticated with the old one).
   */
  async openSessions(keyId: string): Promise<OpenSessions> {
    const user = this.userOf(keyId);
    const source = this.dialect.sessionSource;
    if (!user) return { count: 0, source, loginOpen: false };
    if (!this.single) {
      const [count, state] = await Promise.all([this.dialect.sessions(user), this.dialect.state(user)]);
      return { count, source, loginOpen: state === 'active' };
    }
    const marker = markerOf((await this.current())?.keyId);
    return { count: marker ? await this.dialect.sessions(user, marker) : 0, source, loginOpen: false };
  }

  /** The stored password becomes the login's password again, and the login is unlocked. */
  async reinstate(keyId: string, value: Secret): Promise<void> {
    const user = this.userOf(keyId);
    if (!user) throw this.unknown(keyId);
    await this.dialect.setPassword(user, value);
  }

  loginOf(keyId: string): string | undefined {
    return this.userOf(keyId);
  }

  private userOf(keyId: string): string | undefined {
    const user = this.single ? keyId.split(SEPARATOR)[0] : keyId;
    return user !== undefined && this.spec.users.includes(user) ? user : undefined;
  }

  /**
   * Single user: a failed password change may still have happened (its answer lost), leaving the
   * stored password dead with no new key id recorded, so nothing would reinstate it. Read the truth
   * back: the stored password is set again only if the server now refuses it. A refusal by the
   * server changed nothing, so only a transient failure (unreachable, answer lost) is checked.
   */
  private async afterLostChange(user: string, cause: unknown): Promise<unknown> {
    if (!(cause instanceof RotatorError && cause.transient)) return cause;
    try {
      const stored = (await this.current())?.value;
      if (stored && !(await this.dialect.tryLogin(user, stored)))
        await this.dialect.setPassword(user, stored);
      return cause;
    } catch {
      return new RotatorError(
        cause.code,
        `${cause.message}; the password change for ${user} may have happened, and the stored password (secret/${this.opts.storePath}) could not be checked: log in with it, and set it again if it is refused`,
        { transient: true, context: { ...cause.context, user } },
      );
    }
  }

  private current(): Promise<StoredCredential | undefined> {
    return this.opts.store.read(this.opts.storePath);
  }

  private async idleUser(): Promise<string> {
    const current = (await this.current())?.keyId;
    const [a, b] = this.spec.users as [string, string];
    if (current === a) return b;
    if (current === b) return a;
    throw new RotatorError(
      'store_missing',
      `secret/${this.opts.storePath} names user ${current ?? '(none)'} as current, not ${a} or ${b}: set api_key_id to the user the consumers log in as`,
    );
  }

  private unknown(keyId: string): RotatorError {
    return new RotatorError(
      'issuer_rejected',
      `${this.spec.name}: ${keyId} is not a login of this credential`,
    );
  }
}

function markerOf(keyId: string | undefined): string | undefined {
  const i = keyId?.indexOf(SEPARATOR) ?? -1;
  return i >= 0 ? keyId!.slice(i + 1) : undefined;
}
