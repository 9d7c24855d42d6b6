import type { CredentialSpec, DatabaseIssuerSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { SecretStore } from '../../domain/ports';
import type { Secret } from '../../domain/secret';
import { DatabaseIssuer } from './database-issuer';
import { MariaDbDialect } from './mariadb-issuer';
import { PostgresDialect, type ServerLogin } from './postgres-issuer';

/** The admin login of a database issuer: its password from the environment (read at start) or the store (read per use). */
export function adminLogin(spec: DatabaseIssuerSpec, store: SecretStore): ServerLogin {
  const source = spec.admin.password;
  return {
    user: spec.admin.user,
    password: async (): Promise<Secret> => {
      if (source.from === 'env') return source.value;
      const value = (await store.read(source.path))?.value;
      if (!value) {
        throw new RotatorError(
          'store_missing',
          `secret/${source.path} holds no admin password for ${spec.name}`,
        );
      }
      return value;
    },
  };
}

/** The issuer of a database credential: PostgreSQL or MariaDB behind the shared rotation logic. */
export function createDatabaseIssuer(
  spec: CredentialSpec & { issuer: DatabaseIssuerSpec },
  store: SecretStore,
  generatePassword?: () => string,
): DatabaseIssuer {
  const admin = adminLogin(spec.issuer, store);
  const dialect =
    spec.issuer.kind === 'postgres'
      ? new PostgresDialect(spec.issuer, admin)
      : new MariaDbDialect(spec.issuer, admin);
  return new DatabaseIssuer({
    spec: spec.issuer,
    credential: spec.name,
    storePath: spec.store,
    store,
    dialect,
    ...(generatePassword ? { generatePassword } : {}),
  });
}
