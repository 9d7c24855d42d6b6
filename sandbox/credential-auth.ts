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

/** How one credential's values are issued and checked in the sandbox, whatever its issuer kind. */
export interface CredentialAuth {
  /** The value in service when the world starts, created at its issuer double. */
  seed(name: string, value: string, createdAt: Date): { id: string };
  /** A consumer calling with the value (recorded as a use); false when rejected. */
  use(value: string): boolean;
  /** Whether the issuer would accept the value now; records nothing. */
  accepts(value: string): boolean;
  /** Whether the store records the issuer's key id (a manual key's id is not the bot's to know). */
  storesKeyId: boolean;
}

export interface IssuerDoubles {
  provider: ProviderDouble;
  providerToken: string;
  oauth: OAuthDouble;
  oauthToken: string;
}

/**
 * Points a catalog credential's issuer at its double (base URL, test URL, admin token in `env`) and
 * says how its values are seeded and checked. One case per issuer kind.
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
      return {
        seed: (name, value, createdAt) => oauth.seedSecret(clientId, { value, description: name, createdAt }),
        use: (value) => oauth.use(clientId, value),
        accepts: (value) => oauth.accepts(clientId, value),
        storesKeyId: true,
      };
    }
    case 'manual':
      // A console-made key: the provider double stands in for the console's API, /v1/test for its test URL.
      issuer.testUrl = `${provider.url}/v1/test`;
      return { ...providerAuth(provider), storesKeyId: false };
    default:
      issuer.baseUrl = provider.url;
      env[issuer.adminTokenEnv!] = doubles.providerToken;
      return { ...providerAuth(provider), storesKeyId: true };
  }
}

function providerAuth(provider: ProviderDouble): Omit<CredentialAuth, 'storesKeyId'> {
  return {
    seed: (name, value, createdAt) => provider.seedKey({ name, value, createdAt }),
    use: (value) => provider.use(value),
    accepts: (value) => provider.accepts(value),
  };
}
