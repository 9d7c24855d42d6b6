import type { CredentialSpec } from '../../src/domain/credential';
import { Secret } from '../../src/domain/secret';

export const CREDENTIAL = 'payment-gateway-api';
export const STORE_PATH = 'api-credentials/payment-gateway-api';
export const K8S_SECRET = 'payment-gateway-secret';

/**
 * The runbook's payment-gateway-api: a startup consumer with a health check, a scheduled one in the
 * cluster and a dynamic one outside it, so every reload mode and both kinds of consumer appear.
 */
export function specFixture(overrides: Partial<CredentialSpec> = {}): CredentialSpec {
  return {
    name: CREDENTIAL,
    type: 'api_key',
    risk: 'high',
    store: STORE_PATH,
    kubernetesSecret: K8S_SECRET,
    issuer: {
      kind: 'rest_api_key',
      name: 'payment-provider.example.com',
      baseUrl: 'https://api.provider.example.com',
      adminToken: new Secret('admin-token-for-tests'),
      permissions: ['read', 'write'],
      keyName: 'production-integration',
    },
    consumers: [
      {
        name: 'web-app',
        reload: 'startup',
        kubernetes: { namespace: 'payments', deployment: 'web-app', externalSecret: K8S_SECRET },
        health: { url: 'https://app.example.org/api/health/payment-integration' },
      },
      {
        name: 'batch-processor',
        reload: 'scheduled',
        kubernetes: { namespace: 'payments', deployment: 'batch-processor', externalSecret: K8S_SECRET },
      },
      { name: 'fraud-scorer', reload: 'dynamic' },
    ],
    contact: 'payments-team@example.org',
    channel: 'C_PAYMENTS',
    approvers: ['U_BOB', 'U_CAROL'],
    ...overrides,
  };
}
