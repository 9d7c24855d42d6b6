import { randomBytes } from 'node:crypto';
import { loginWorks } from './databases/logins';
import { DATABASE_SECRET_FIELDS, isDatabaseIssuer, seedDatabase } from './databases/seed';
import type { OAuthDouble } from './oauth';
import type { ProviderDouble } from './provider';

/** The catalog's issuer block as the sandbox rewrites it to point at the doubles. */
export interface CatalogIssuer {
  kind?: string;
  name?: string;
  baseUrl?: string;
  adminTokenEnv?: string;
  keyName?: string;
  maxConcurrent?: number;
  vars?: Record<string, string>;
  testUrl?: string;
  consoleUrl?: string;
}

/** A Kubernetes Secret key and the store field the ExternalSecret fills it from. */
export interface SecretField {
  secretKey: string;
  property: string;
}

/** How one credential's values are issued and checked in the sandbox, whatever its issuer kind. */
export interface CredentialAuth {
  /** The Secret key consumers read the value from (api_key, a database login's password). */
  valueKey: string;
  /** The store fields the consumers' Secret maps. */
  secretFields: SecretField[];
  /** Creates the value in service when the world starts, at its issuer double: the store's first version. */
  seed(name: string, createdAt: Date): Promise<{ stored: Record<string, string>; keyId: string }>;
  /** Consumer `consumer` calling with the value it holds (recorded as a use); false when rejected. */
  use(value: string, consumer: string): Promise<boolean>;
  /** Whether a pod starting with the value authenticates (it logs the outcome); absent: it logs nothing. */
  accepts?(value: string): boolean;
  /** Removes what the seed made outside the doubles (database logins). */
  drop?(): Promise<void>;
}

export interface IssuerDoubles {
  provider: ProviderDouble;
  providerToken: string;
  oauth: OAuthDouble;
  oauthToken: string;
  /** The value of a consumer's Secret key `key` as it holds it now (a database consumer's username). */
  held(consumer: string, key: string): string | undefined;
}

const API_KEY_FIELDS: SecretField[] = [{ secretKey: 'api_key', property: 'api_key' }];

/**
 * Points a catalog credential's issuer at its double (base URL, test URL, admin token or password
 * variable in `env`) and says how its values are seeded and checked. One case per issuer kind;
 * aws_iam credentials carry a key pair and are seeded whole by sandbox/iam/seed.ts.
 */
export function credentialAuth(
  issuer: CatalogIssuer,
  doubles: IssuerDoubles,
  env: Record<string, string>,
): CredentialAuth {
  const { provider, oauth } = doubles;
  switch (issuer.kind) {
    case 'http_secret': {
      // The generic HTTP issuer in the sandbox is the OAuth admin double; the client is in vars.
      const clientId = issuer.vars?.['clientId'] ?? 'client';
      issuer.baseUrl = oauth.url;
      env[issuer.adminTokenEnv!] = doubles.oauthToken;
      return apiKeyAuth(
        {
          seed: (name, value, createdAt) =>
            oauth.seedSecret(clientId, { value, description: name, createdAt }),
          use: (value) => oauth.use(clientId, value),
          accepts: (value) => oauth.accepts(clientId, value),
        },
        true,
      );
    }
    case 'manual':
      // A console-made key: the provider double stands in for the console's API, /v1/test for its test URL.
      issuer.testUrl = `${provider.url}/v1/test`;
      return apiKeyAuth(providerCalls(provider), false);
    case 'postgres':
    case 'mariadb': {
      if (!isDatabaseIssuer(issuer)) throw new Error(`sandbox: ${issuer.kind} issuer without users`);
      const database = issuer;
      let drop: (() => Promise<void>) | undefined;
      return {
        valueKey: 'password',
        secretFields: DATABASE_SECRET_FIELDS,
        seed: async () => {
          const seeded = await seedDatabase(database);
          drop = seeded.drop;
          Object.assign(env, seeded.env);
          return { stored: seeded.store, keyId: seeded.store['api_key_id']! };
        },
        // A database consumer is healthy while its login (user and password it holds) gets in.
        use: async (value, consumer) => {
          const user = doubles.held(consumer, 'username');
          return !!user && (await loginWorks(database.kind, user, value));
        },
        drop: async () => drop?.(),
      };
    }
    case 'aws_iam':
      throw new Error('sandbox: aws_iam credentials are seeded by sandbox/iam/seed.ts');
    case 'rest_api_key':
      issuer.baseUrl = provider.url;
      env[issuer.adminTokenEnv!] = doubles.providerToken;
      return apiKeyAuth(providerCalls(provider), true);
    default:
      throw new Error(`sandbox: no issuer double for issuer kind ${String(issuer.kind)}`);
  }
}

interface KeyCalls {
  seed(name: string, value: string, createdAt: Date): { id: string };
  use(value: string): boolean;
  accepts(value: string): boolean;
}

function providerCalls(provider: ProviderDouble): KeyCalls {
  return {
    seed: (name, value, createdAt) => provider.seedKey({ name, value, createdAt }),
    use: (value) => provider.use(value),
    accepts: (value) => provider.accepts(value),
  };
}

/** An API key (or client secret) in `api_key`; `storesKeyId`: a manual key's id is not the bot's to know. */
function apiKeyAuth(calls: KeyCalls, storesKeyId: boolean): CredentialAuth {
  return {
    valueKey: 'api_key',
    secretFields: API_KEY_FIELDS,
    seed: async (name, createdAt) => {
      const value = `pk_live_${randomBytes(20).toString('hex')}`;
      const { id } = calls.seed(name, value, createdAt);
      return {
        stored: { api_key: value, ...(storesKeyId ? { api_key_id: id } : {}), previous_key: '' },
        keyId: id,
      };
    },
    use: async (value) => calls.use(value),
    accepts: (value) => calls.accepts(value),
  };
}
