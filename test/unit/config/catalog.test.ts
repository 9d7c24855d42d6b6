import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadCatalog, parseCatalog } from '../../../src/catalog';
import { DEFAULT_LOG_ERROR_PATTERN } from '../../../src/domain/credential';
import { RotatorError } from '../../../src/domain/errors';

const SHIPPED = join(__dirname, '../../../credentials.yaml');
const ENV = {
  PAYMENT_PROVIDER_ADMIN_TOKEN: 'payment-admin-token-value',
  CRM_ADMIN_TOKEN: 'crm-admin-token-value',
  MONITORING_ADMIN_TOKEN: 'monitoring-admin-token-value',
  IDP_ADMIN_TOKEN: 'idp-admin-token-value',
  IAM_ADMIN_ACCESS_KEY_ID: 'AKIAADMINADMINADMIN0',
  IAM_ADMIN_SECRET_ACCESS_KEY: 'iam-admin-secret-value',
};

/** Runs `fn` and returns the RotatorError it threw (failing the test if it threw nothing else). */
function refusal(fn: () => unknown): RotatorError {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(RotatorError);
  const e = thrown as RotatorError;
  expect(e.code).toBe('catalog_invalid');
  return e;
}

describe('the shipped credentials.yaml', () => {
  const catalog = loadCatalog(SHIPPED, ENV);

  it("declares the runbook's three credentials, an OAuth client secret, a manual one and an IAM user's access key", () => {
    expect([...catalog.credentials.keys()]).toEqual([
      'payment-gateway-api',
      'crm-integration',
      'monitoring-service',
      'reporting-sso-client',
      'partner-portal-key',
      'integration-service-account',
    ]);
    const sso = catalog.credentials.get('reporting-sso-client')!;
    expect(sso.issuer.kind).toBe('http_secret');
    // The catalog names no reload mode: an OAuth client secret is restart-required by default.
    expect(sso.consumers.map((c) => c.reload)).toEqual(['startup']);
    expect(catalog.credentials.get('partner-portal-key')!.issuer).toMatchObject({
      kind: 'manual',
      testUrl: 'https://api.partners.example.com/v1/test',
    });
  });

  it('reads the IAM issuer: its user, its waits, and the admin key from the environment', () => {
    const issuer = catalog.credentials.get('integration-service-account')?.issuer;
    expect(issuer).toMatchObject({
      kind: 'aws_iam',
      userName: 'integration-service-account',
      region: 'us-east-1',
      accessKeyId: 'AKIAADMINADMINADMIN0',
      quietWindowMs: 4 * 3_600_000,
      deleteAfterMs: 7 * 86_400_000,
      newKeyConsistencyMs: 120_000,
      deleteForeignInactiveKey: false,
    });
    expect(issuer?.kind === 'aws_iam' && issuer.secretAccessKey.reveal()).toBe('iam-admin-secret-value');
    expect(JSON.stringify([...catalog.credentials.values()])).not.toContain('iam-admin-secret-value');
  });

  it('defaults an IAM quiet window to 4 hours and refuses a missing admin secret variable', () => {
    const text = stringify({
      access: { approvers: ['U0BOB'] },
      credentials: [
        {
          name: 'ci-deployer',
          type: 'service_account_token',
          risk: 'standard',
          issuer: { kind: 'aws_iam', userName: 'ci', accessKeyIdEnv: 'A_ID', secretAccessKeyEnv: 'A_SECRET' },
          consumers: [{ name: 'ci', reload: 'scheduled' }],
          contact: 'x@example.org',
        },
      ],
    });
    const ok = parseCatalog(text, {
      A_ID: 'AKIA0000000000000000',
      A_SECRET: 's',
      AWS_ENDPOINT_URL_IAM: 'http://127.0.0.1:1',
    });
    expect(ok.credentials.get('ci-deployer')?.issuer).toMatchObject({
      quietWindowMs: 14_400_000,
      endpoint: 'http://127.0.0.1:1',
      name: 'iam.amazonaws.com',
    });
    expect(refusal(() => parseCatalog(text, { A_ID: 'AKIA0000000000000000' })).message).toContain(
      'credentials[0] (ci-deployer).issuer.secretAccessKeyEnv: environment variable A_SECRET is not set',
    );
  });

  it('describes payment-gateway-api as the runbook does: high-risk api_key at payment-provider.example.com', () => {
    const spec = catalog.credentials.get('payment-gateway-api');
    expect(spec).toMatchObject({
      type: 'api_key',
      risk: 'high',
      store: 'api-credentials/payment-gateway-api',
      issuer: {
        kind: 'rest_api_key',
        name: 'payment-provider.example.com',
        keyName: 'production-integration',
      },
    });
  });

  it('verifies batch-processor by its logs too, as the runbook does', () => {
    const batch = catalog.credentials
      .get('payment-gateway-api')
      ?.consumers.find((c) => c.name === 'batch-processor');
    expect(batch?.health?.logs).toEqual({
      errorPattern: 'authentication failed|unauthorized',
      tailLines: 50,
    });
  });

  it('has web-app and mobile-backend restart at startup and batch-processor pick it up at its next job', () => {
    const consumers = catalog.credentials.get('payment-gateway-api')?.consumers;
    expect(consumers?.map((c) => [c.name, c.reload, c.kubernetes?.namespace])).toEqual([
      ['web-app', 'startup', 'payments'],
      ['mobile-backend', 'startup', 'payments'],
      ['batch-processor', 'scheduled', 'payments'],
    ]);
  });

  it('resolves each admin token from its environment variable, as a Secret', () => {
    const issuer = catalog.credentials.get('payment-gateway-api')?.issuer;
    const token = issuer?.kind === 'rest_api_key' ? issuer.adminToken : undefined;
    expect(token?.reveal()).toBe('payment-admin-token-value');
    expect(JSON.stringify([...catalog.credentials.values()])).not.toMatch(/admin-token-value/);
  });

  it('reads the access lists', () => {
    expect(catalog.access).toEqual({
      requesters: [],
      approvers: ['U0BOB', 'S0SECURITY'],
      responders: ['S0ONCALL'],
    });
  });
});

/** A small valid catalog; each case breaks one thing. */
function credential(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'crm-integration',
    type: 'api_key',
    risk: 'standard',
    issuer: {
      kind: 'rest_api_key',
      name: 'crm.example.com',
      baseUrl: 'https://api.crm.example.com',
      adminTokenEnv: 'CRM_ADMIN_TOKEN',
    },
    consumers: [
      {
        name: 'crm-sync',
        reload: 'startup',
        kubernetes: { namespace: 'sales', deployment: 'crm-sync' },
      },
    ],
    contact: 'sales-engineering@example.org',
    ...overrides,
  };
}
/** A catalog of these credentials; global approvers so that each one can be approved. */
const yamlOf = (...credentials: Record<string, unknown>[]) =>
  stringify({ access: { approvers: ['U0BOB'] }, credentials });
const catalogOf = (access: Record<string, unknown>, ...credentials: Record<string, unknown>[]) =>
  stringify({ access, credentials });

const consumerWithLogs = {
  name: 'crm-sync',
  reload: 'startup',
  kubernetes: { namespace: 'sales', deployment: 'crm-sync' },
  health: { url: 'https://crm-sync.example.org/health', logs: {} },
};

describe('parseCatalog', () => {
  describe('when a consumer declares a log check without settings', () => {
    it('reads the last 50 lines for the default authentication-error pattern', () => {
      const catalog = parseCatalog(yamlOf(credential({ consumers: [consumerWithLogs] })), ENV);
      const logs = catalog.credentials.get('crm-integration')?.consumers[0]?.health?.logs;
      expect(logs).toEqual({ errorPattern: DEFAULT_LOG_ERROR_PATTERN, tailLines: 50 });
      const pattern = new RegExp(logs!.errorPattern, 'i');
      expect(pattern.test('level=error msg="crm: Authentication failed: 401 Unauthorized"')).toBe(true);
      expect(pattern.test('level=info msg="crm: authenticated with crm.example.com"')).toBe(false);
    });
  });

  describe('when optional fields are left out', () => {
    it('defaults the store path, key name, permissions and access lists', () => {
      const catalog = parseCatalog(yamlOf(credential()), ENV);
      expect(catalog.credentials.get('crm-integration')).toMatchObject({
        store: 'api-credentials/crm-integration',
        issuer: { keyName: 'crm-integration', permissions: [] },
        approvers: [],
      });
      expect(catalog.access).toEqual({ requesters: [], approvers: ['U0BOB'], responders: [] });
    });
  });

  describe.each<[string, string, string]>([
    [
      'a credential type the runbook does not know',
      yamlOf(credential({ type: 'password' })),
      'credentials[0] (crm-integration).type',
    ],
    [
      'an invalid credential name',
      yamlOf(credential({ name: 'CRM_Integration' })),
      'credentials[0] (CRM_Integration).name',
    ],
    [
      'an unknown field',
      yamlOf(credential({ rotateEvery: 30 })),
      'credentials[0] (crm-integration): Unrecognized key: "rotateEvery"',
    ],
    [
      'no consumers field',
      yamlOf(credential({ consumers: undefined })),
      'credentials[0] (crm-integration).consumers',
    ],
    [
      'an empty consumers list',
      yamlOf(credential({ consumers: [] })),
      'credentials[0] (crm-integration).consumers',
    ],
    [
      'a consumer with an unknown reload mode',
      yamlOf(credential({ consumers: [{ name: 'crm-sync', reload: 'sometimes' }] })),
      'credentials[0] (crm-integration).consumers[0].reload',
    ],
    [
      'a duplicate credential name',
      yamlOf(credential(), credential()),
      'credentials[1] (crm-integration).name: duplicate credential name',
    ],
    [
      'an admin-token variable that is not set',
      yamlOf(
        credential({ issuer: { ...(credential().issuer as object), adminTokenEnv: 'UNSET_ADMIN_TOKEN' } }),
      ),
      'credentials[0] (crm-integration).issuer.adminTokenEnv: environment variable UNSET_ADMIN_TOKEN is not set',
    ],
    [
      'a startup consumer without a kubernetes deployment',
      yamlOf(credential({ consumers: [{ name: 'crm-sync', reload: 'startup' }] })),
      'credentials[0] (crm-integration).consumers[0].kubernetes: a startup consumer needs a deployment to restart',
    ],
    [
      'a duplicate consumer',
      yamlOf(
        credential({
          consumers: [
            { name: 'crm-sync', reload: 'scheduled' },
            { name: 'crm-sync', reload: 'dynamic' },
          ],
        }),
      ),
      'credentials[0] (crm-integration).consumers[1].name: duplicate consumer crm-sync',
    ],
    [
      'a user-group id with an underscore among the global approvers',
      catalogOf({ approvers: ['U0BOB', 'S_SECURITY'] }, credential()),
      'access.approvers[1]: a Slack user (U…/W…) or user-group (S…) id',
    ],
    [
      'a lower-case user id among a credential’s approvers',
      yamlOf(credential({ approvers: ['u0carol'] })),
      'credentials[0] (crm-integration).approvers[0]: a Slack user',
    ],
    [
      'two credentials on one store path',
      yamlOf(
        credential({ store: 'api-credentials/shared' }),
        credential({ name: 'billing-api', store: 'api-credentials/shared' }),
      ),
      'credentials[1] (billing-api).store: api-credentials/shared is also the store of credentials[0] (crm-integration)',
    ],
    [
      'a store path that is another credential’s default',
      yamlOf(credential(), credential({ name: 'billing-api', store: 'api-credentials/crm-integration' })),
      'credentials[1] (billing-api).store: api-credentials/crm-integration is also the store of credentials[0] (crm-integration)',
    ],
    [
      'a credential nobody can approve',
      catalogOf(
        { requesters: ['U0ALICE'] },
        credential({ approvers: ['U0CAROL'] }),
        credential({ name: 'billing-api' }),
      ),
      'credentials[1] (billing-api).approvers: nobody can approve billing-api',
    ],
    [
      'a log check whose error pattern is not a regular expression',
      yamlOf(
        credential({
          consumers: [
            { ...consumerWithLogs, health: { ...consumerWithLogs.health, logs: { errorPattern: 'auth(' } } },
          ],
        }),
      ),
      'credentials[0] (crm-integration).consumers[0].health.logs.errorPattern: not a valid regular expression',
    ],
    [
      'a log check on a consumer without a deployment',
      yamlOf(
        credential({ consumers: [{ ...consumerWithLogs, kubernetes: undefined, reload: 'scheduled' }] }),
      ),
      "credentials[0] (crm-integration).consumers[0].health.logs: a log check needs the consumer's deployment",
    ],
    ['text that is not YAML', 'credentials: [\n  - name: "unterminated\n', 'test-catalog: not valid YAML'],
    ['an empty file', '', '(root)'],
  ])('when the catalog has %s', (_case, text, names) => {
    it("refuses it with code 'catalog_invalid', naming the credential and field", () => {
      const e = refusal(() => parseCatalog(text, ENV, 'test-catalog'));
      expect(e.message).toContain(names);
      expect(e.message.startsWith('test-catalog')).toBe(true);
    });
  });

  describe('when only the credentials name approvers', () => {
    it('accepts the catalog without global approvers', () => {
      const catalog = parseCatalog(catalogOf({}, credential({ approvers: ['U0CAROL', 'S0SECURITY'] })), ENV);
      expect(catalog.credentials.get('crm-integration')?.approvers).toEqual(['U0CAROL', 'S0SECURITY']);
    });
  });

  describe('when the admin-token variable is set but empty', () => {
    it('counts it as not set', () => {
      const e = refusal(() => parseCatalog(yamlOf(credential()), { CRM_ADMIN_TOKEN: '' }));
      expect(e.message).toContain('environment variable CRM_ADMIN_TOKEN is not set');
    });
  });

  describe('when several credentials are wrong at once', () => {
    it('lists every problem in one error', () => {
      const text = yamlOf(
        credential({ consumers: [{ name: 'crm-sync', reload: 'startup' }] }),
        credential({
          name: 'billing-api',
          issuer: { ...(credential().issuer as object), adminTokenEnv: 'BILLING_TOKEN' },
        }),
      );
      const e = refusal(() => parseCatalog(text, ENV));
      expect(e.message).toContain('credentials[0] (crm-integration).consumers[0].kubernetes');
      expect(e.message).toContain('credentials[1] (billing-api).issuer.adminTokenEnv');
    });
  });

  describe('when the catalog is refused', () => {
    it('never repeats an admin token value', () => {
      const e = refusal(() => parseCatalog(yamlOf(credential(), credential()), ENV));
      expect(e.message).not.toContain('crm-admin-token-value');
    });
  });
});

describe('loadCatalog', () => {
  describe('when the file cannot be read', () => {
    it("refuses with 'catalog_invalid' naming the path", () => {
      const e = refusal(() => loadCatalog('/nonexistent/credentials.yaml', ENV));
      expect(e.message).toBe('catalog /nonexistent/credentials.yaml cannot be read');
    });
  });
});
