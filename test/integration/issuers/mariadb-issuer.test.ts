import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createConnection, type RowDataPacket } from 'mysql2/promise';
import { createDatabaseIssuer } from '../../../src/adapters/issuers/database-issuer-factory';
import { MariaDbDialect } from '../../../src/adapters/issuers/mariadb-issuer';
import { isRotatorError } from '../../../src/domain/errors';
import { Secret } from '../../../src/domain/secret';
import { createLogins, dropLogins, loginWorks, SERVERS } from '../../../sandbox/databases/logins';
import { FakeClock, FakeSecretStore } from '../../helpers/fakes';

const server = SERVERS.mariadb;
/** Quotes, backslashes and dollar quoting, as in database-issuer.test.ts. */
const NASTY_PASSWORD = `it's "quoted" \\ back\\\\slash $$ dollar $tag$ ; -- x`;
const uniq = () => randomBytes(4).toString('hex');

/**
 * A TCP relay to the real server that keeps every byte the client sent: what the server is told.
 * The first `loseAlterAnswers` ALTER USER statements reach the server, but their answers are lost
 * (the connection drops as the server replies), as a network failure mid-statement does.
 */
async function recordingRelay(
  loseAlterAnswers = 0,
): Promise<{ port: number; sent: () => string; close: () => Promise<void> }> {
  const chunks: Buffer[] = [];
  const sockets: Socket[] = [];
  let toLose = loseAlterAnswers;
  const relay: Server = createServer((client) => {
    const upstream = connect(server.port, server.host);
    sockets.push(client, upstream);
    let losing = false;
    client.on('data', (d: Buffer) => {
      chunks.push(d);
      if (toLose > 0 && d.toString('latin1').includes('ALTER USER')) {
        toLose -= 1;
        losing = true;
      }
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!losing) return void client.write(d);
      client.destroy();
      upstream.destroy();
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    sent: () => Buffer.concat(chunks).toString('latin1'),
    close: () =>
      new Promise<void>((resolve) => {
        sockets.forEach((s) => s.destroy());
        relay.close(() => resolve());
      }),
  };
}

const STORE = 'database-credentials/orders-db';

const dialectOn = (port: number) =>
  new MariaDbDialect(
    { name: 'mariadb.test', host: server.host, port, accountHost: '%' },
    { user: server.admin, password: async () => new Secret('') },
  );

describe('MariaDbDialect on the real MariaDB server', () => {
  const users: string[] = [];
  afterEach(async () => {
    await dropLogins('mariadb', users.splice(0));
  });

  it('sets a password with quotes, backslashes and $$ without the password ever reaching the server', async () => {
    const user = `rot_hash_${uniq()}`;
    users.push(user);
    await createLogins('mariadb', { [user]: 'old-password' });
    const relay = await recordingRelay();
    try {
      await dialectOn(relay.port).setPassword(user, new Secret(NASTY_PASSWORD));
    } finally {
      await relay.close();
    }

    const sent = relay.sent();
    expect(sent).toContain('IDENTIFIED BY PASSWORD');
    // Neither the password nor any recognisable piece of it, escaped or not.
    for (const piece of ['dollar', '$tag$', 'quoted', 'back']) expect(sent).not.toContain(piece);
    expect(await loginWorks('mariadb', user, NASTY_PASSWORD)).toBe(true);
    expect(await loginWorks('mariadb', user, 'old-password')).toBe(false);
  });

  it('refuses a user of another authentication plugin and leaves it as it was', async () => {
    const user = `rot_sock_${uniq()}`;
    users.push(user);
    const admin = await createConnection({ host: server.host, port: server.port, user: server.admin });
    const pluginOf = async () => {
      const [rows] = await admin.query<RowDataPacket[]>(
        "SELECT JSON_VALUE(Priv, '$.plugin') AS plugin FROM mysql.global_priv WHERE User = ? AND Host = '%'",
        [user],
      );
      return rows[0]?.['plugin'] as unknown;
    };
    try {
      await admin.query('CREATE USER ?@? IDENTIFIED VIA unix_socket', [user, '%']);
      const e = await dialectOn(server.port)
        .setPassword(user, new Secret(NASTY_PASSWORD))
        .catch((err: unknown) => err);

      expect(isRotatorError(e) && e.code).toBe('issuer_rejected');
      expect((e as Error).message).toContain('unix_socket');
      expect((e as Error).message).not.toContain('dollar');
      expect(await pluginOf()).toBe('unix_socket');
    } finally {
      await admin.end();
    }
  });

  it('puts the stored password back when every try of a password change loses its answer', async () => {
    const user = `rot_lost_${uniq()}`;
    users.push(user);
    await createLogins('mariadb', { [user]: 'stored-password' });
    const store = new FakeSecretStore(new FakeClock());
    await store.write(
      STORE,
      { value: new Secret('stored-password'), keyId: `${user}#1`, rotatedAt: 'x', rotatedBy: 'seed' },
      0,
    );
    await store.write(
      'database-admins/test',
      { value: new Secret(''), rotatedAt: 'x', rotatedBy: 'seed' },
      0,
    );
    // adminCall tries three times: all three changes happen, none is answered.
    const relay = await recordingRelay(3);
    try {
      const issuer = createDatabaseIssuer(
        {
          name: 'orders-db',
          type: 'database',
          risk: 'standard',
          store: STORE,
          issuer: {
            kind: 'mariadb',
            name: 'mariadb.test',
            host: server.host,
            port: relay.port,
            strategy: 'single_user',
            users: [user],
            accountHost: '%',
            admin: { user: server.admin, password: { from: 'store', path: 'database-admins/test' } },
          },
          consumers: [],
          contact: 'db@example.org',
          approvers: [],
        },
        store,
        () => NASTY_PASSWORD,
      );
      const e = await issuer.create('rotator/orders-db/run-1').catch((err: unknown) => err);

      expect(isRotatorError(e) && e.code).toBe('issuer_unavailable');
    } finally {
      await relay.close();
    }
    expect(await loginWorks('mariadb', user, 'stored-password')).toBe(true);
    expect(await loginWorks('mariadb', user, NASTY_PASSWORD)).toBe(false);
  });
});
