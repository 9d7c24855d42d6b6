import { randomBytes } from 'node:crypto';
import { createDatabaseIssuer } from '../../../src/adapters/issuers/database-issuer-factory';
import type { DatabaseIssuer } from '../../../src/adapters/issuers/database-issuer';
import type { CredentialSpec, DatabaseIssuerSpec, DatabaseStrategy } from '../../../src/domain/credential';
import { isRotatorError } from '../../../src/domain/errors';
import { Secret } from '../../../src/domain/secret';
import {
  createLogins,
  dropLogins,
  loginWorks,
  openSession,
  SERVERS,
  type DatabaseKind,
} from '../../../sandbox/databases/logins';
import { FakeClock, FakeSecretStore } from '../../helpers/fakes';

/** Quotes, backslashes and dollar quoting: what naive SQL building would break on. */
export const NASTY_PASSWORD = `it's "quoted" \\ back\\\\slash $$ dollar $tag$ ; -- x`;
const STORE = 'database-credentials/orders-db';

const uniq = () => randomBytes(4).toString('hex');

function specFor(kind: DatabaseKind, strategy: DatabaseStrategy, users: string[]): CredentialSpec {
  const s = SERVERS[kind];
  const issuer: DatabaseIssuerSpec = {
    kind,
    name: `${kind}.test`,
    host: s.host,
    port: s.port,
    ...(s.database ? { database: s.database } : {}),
    strategy,
    users,
    accountHost: '%',
    admin: { user: s.admin, password: { from: 'store', path: 'database-admins/test' } },
  };
  return {
    name: 'orders-db',
    type: 'database',
    risk: 'standard',
    store: STORE,
    issuer,
    consumers: [{ name: 'orders-api', reload: 'startup', kubernetes: { namespace: 'o', deployment: 'api' } }],
    contact: 'db@example.org',
    approvers: [],
  };
}

describe.each(['postgres', 'mariadb'] as const)('DatabaseIssuer on the real %s server', (kind) => {
  const users: string[] = [];
  let store: FakeSecretStore;
  const make = (strategy: DatabaseStrategy, names: string[], password?: string): DatabaseIssuer =>
    createDatabaseIssuer(
      specFor(kind, strategy, names) as CredentialSpec & { issuer: DatabaseIssuerSpec },
      store,
      password ? () => password : undefined,
    );
  const seed = async (keyId: string, value: string) =>
    store.write(STORE, { value: new Secret(value), keyId, rotatedAt: 'x', rotatedBy: 'seed' }, 0);

  beforeEach(async () => {
    store = new FakeSecretStore(new FakeClock());
    // The admin login comes from the store: the machine's admin has an empty password, kept as one.
    await store.write(
      'database-admins/test',
      { value: new Secret(''), rotatedAt: 'x', rotatedBy: 'seed' },
      0,
    );
  });
  afterEach(async () => {
    await dropLogins(kind, users.splice(0));
  });

  it('refuses a wrong password for the logins it manages (the server checks passwords)', async () => {
    const user = `rot_chk_${uniq()}`;
    users.push(user);
    await createLogins(kind, { [user]: 'right-password' });
    // Without this, every "old password refused" below would pass on a trusting server.
    expect(await loginWorks(kind, user, 'right-password')).toBe(true);
    expect(await loginWorks(kind, user, 'wrong-password')).toBe(false);
  });

  describe('single user', () => {
    it("replaces the user's password in place: a password with quotes, backslashes and $$ logs in, the old one is refused", async () => {
      const user = `rot_one_${uniq()}`;
      users.push(user);
      await createLogins(kind, { [user]: 'old-password' });
      await seed(user, 'old-password');
      const issuer = make('single_user', [user], NASTY_PASSWORD);

      const { keyId, value } = await issuer.create('rotator/orders-db/run-1');

      expect(value.reveal()).toBe(NASTY_PASSWORD);
      expect(keyId.startsWith(`${user}#`)).toBe(true);
      expect(issuer.loginOf(keyId)).toBe(user);
      expect(await loginWorks(kind, user, NASTY_PASSWORD)).toBe(true);
      expect(await loginWorks(kind, user, 'old-password')).toBe(false);
      expect(await issuer.accepts(value)).toBe(true);
      expect(await issuer.accepts(new Secret('old-password'))).toBe(false);
      expect(await issuer.list()).toEqual([]);
    });

    it('reports the sessions opened on the old password, and reinstates it for a rollback', async () => {
      const user = `rot_one_${uniq()}`;
      users.push(user);
      await createLogins(kind, { [user]: 'old-password' });
      await seed(user, 'old-password');
      const pool = await openSession(kind, user, 'old-password');
      try {
        const issuer = make('single_user', [user]);
        const { keyId, value } = await issuer.create('rotator/orders-db/run-2');
        await store.write(STORE, { value, keyId, previousKeyId: user, rotatedAt: 'y', rotatedBy: 'run' }, 1);
        const fresh = await openSession(kind, user, value.reveal());
        expect(await issuer.status(keyId)).toBe('active');
        expect(await issuer.status(user)).toBe('revoked');
        // The pool's connection predates the change; the fresh one does not count.
        expect(await issuer.openSessions(user)).toEqual({
          count: 1,
          source: kind === 'postgres' ? 'pg_stat_activity' : 'information_schema.processlist',
          loginOpen: false,
        });
        await fresh.close();

        await issuer.reinstate(user, new Secret('old-password'));
        expect(await loginWorks(kind, user, 'old-password')).toBe(true);
        expect(await loginWorks(kind, user, value.reveal())).toBe(false);
      } finally {
        await pool.close();
      }
    });

    it('puts the stored password back when a password that was never stored is revoked (a crash before store)', async () => {
      const user = `rot_one_${uniq()}`;
      users.push(user);
      await createLogins(kind, { [user]: 'stored-password' });
      await seed(user, 'stored-password');
      const issuer = make('single_user', [user]);
      const lost = await issuer.create('rotator/orders-db/run-3');
      expect(await loginWorks(kind, user, 'stored-password')).toBe(false);

      await issuer.revoke(lost.keyId);

      expect(await loginWorks(kind, user, 'stored-password')).toBe(true);
      expect(await loginWorks(kind, user, lost.value.reveal())).toBe(false);
    });
  });

  describe('alternating users', () => {
    it('resets the idle user only; the current login keeps working until it is locked, then is refused', async () => {
      const [a, b] = [`rot_a_${uniq()}`, `rot_b_${uniq()}`];
      users.push(a, b);
      await createLogins(kind, { [a]: 'a-password', [b]: 'b-password' });
      await seed(a, 'a-password');
      const issuer = make('alternating_users', [a, b], NASTY_PASSWORD);

      const { keyId, value } = await issuer.create('rotator/orders-db/run-1');

      expect(keyId).toBe(b);
      expect(issuer.loginOf(keyId)).toBe(b);
      expect(await loginWorks(kind, b, NASTY_PASSWORD)).toBe(true);
      expect(await loginWorks(kind, a, 'a-password')).toBe(true);
      expect(await issuer.accepts(value)).toBe(true);

      const pool = await openSession(kind, a, 'a-password');
      try {
        expect(await issuer.openSessions(a)).toEqual(expect.objectContaining({ count: 1, loginOpen: true }));
        await issuer.revoke(a);
        // Locked: the right password is refused; the open session is not cut (the pool must drain).
        expect(await loginWorks(kind, a, 'a-password')).toBe(false);
        expect(await issuer.status(a)).toBe('inactive');
        expect(await issuer.openSessions(a)).toEqual(expect.objectContaining({ count: 1, loginOpen: false }));
      } finally {
        await pool.close();
      }
      expect(await issuer.accepts(new Secret('a-password'))).toBe(false);
    });

    it('names the store entry when it holds neither user as current', async () => {
      const [a, b] = [`rot_a_${uniq()}`, `rot_b_${uniq()}`];
      await seed('someone_else', 'x');
      const e = await make('alternating_users', [a, b])
        .create('l')
        .catch((err: unknown) => err);
      expect(isRotatorError(e) && e.code).toBe('store_missing');
      expect((e as Error).message).toContain(`not ${a} or ${b}`);
    });
  });

  it('says which statement the server refused without quoting the password', async () => {
    const user = `rot_none_${uniq()}`; // never created
    await seed(user, 'x');
    const e = await make('single_user', [user], NASTY_PASSWORD)
      .create('l')
      .catch((err: unknown) => err);
    expect(isRotatorError(e) && e.code).toBe('issuer_rejected');
    expect((e as Error).message).toContain(`${kind}.test refused ALTER`);
    expect(JSON.stringify(e) + String((e as Error).message)).not.toContain('dollar');
  });
});
