import type { CredentialSpec } from '../../../src/domain/credential';
import { buildPlan, consumerAction } from '../../../src/domain/plan';
import { assessAge } from '../../../src/domain/policy';
import type { DiscoveredConsumer } from '../../../src/domain/ports';
import { Secret } from '../../../src/domain/secret';

const NOW = new Date('2025-06-01T00:00:00.000Z');
const age = assessAge({ type: 'api_key', risk: 'high', rotatedAt: '2025-04-01T00:00:00.000Z', now: NOW });

/** The runbook's payment-gateway-api, plus a dynamic consumer so every reload mode appears. */
function spec(overrides: Partial<CredentialSpec> = {}): CredentialSpec {
  const ext = 'payment-gateway-secret';
  return {
    name: 'payment-gateway-api',
    type: 'api_key',
    risk: 'high',
    store: 'api-credentials/payment-gateway-api',
    kubernetesSecret: ext,
    issuer: {
      kind: 'rest_api_key',
      name: 'payment-provider.example.com',
      baseUrl: 'https://api.provider.example.com',
      adminToken: new Secret('admin-token-value'),
      permissions: ['read', 'write'],
      keyName: 'production-integration',
    },
    consumers: [
      {
        name: 'web-app',
        reload: 'startup',
        kubernetes: { namespace: 'payments', deployment: 'web-app', externalSecret: ext },
        health: { url: 'https://app.example.org/api/health/payment-integration' },
      },
      {
        name: 'mobile-backend',
        reload: 'startup',
        kubernetes: { namespace: 'payments', deployment: 'mobile-backend', externalSecret: ext },
        health: { url: 'https://mobile.example.org/health/external-services' },
      },
      {
        name: 'batch-processor',
        reload: 'scheduled',
        kubernetes: { namespace: 'payments', deployment: 'batch-processor', externalSecret: ext },
      },
      { name: 'fraud-scorer', reload: 'dynamic', cacheTtlSeconds: 30 },
    ],
    contact: 'payments-team@example.org',
    channel: 'C_PAYMENTS',
    approvers: ['U_BOB', 'U_CAROL'],
    ...overrides,
  };
}

const found = (namespace: string, deployment: string): DiscoveredConsumer => ({
  namespace,
  deployment,
  via: ['env'],
});

describe('buildPlan', () => {
  it('lists the eight steps of a scheduled rotation in the runbook order', () => {
    const plan = buildPlan({ spec: spec(), age });
    expect(plan.steps.map((s) => s.name)).toEqual([
      'check-dependencies',
      'generate',
      'store-new',
      'deploy',
      'verify',
      'revoke-old',
      'record',
      'notify',
    ]);
    expect(plan.steps.every((s) => s.title.length > 0)).toBe(true);
  });

  it('carries the credential, its type, risk, issuer, store, age and approvers', () => {
    const plan = buildPlan({ spec: spec(), age });
    expect(plan).toMatchObject({
      credential: 'payment-gateway-api',
      type: 'api_key',
      risk: 'high',
      issuer: 'payment-provider.example.com',
      store: 'api-credentials/payment-gateway-api',
      age,
      approvers: ['U_BOB', 'U_CAROL'],
    });
  });

  describe('for each consumer', () => {
    it('restarts startup consumers, waits out dynamic caches, and lets scheduled jobs pick up the next run', () => {
      const plan = buildPlan({ spec: spec(), age });
      expect(plan.consumers.map((c) => [c.name, c.reload, c.action])).toEqual([
        ['web-app', 'startup', 'restart'],
        ['mobile-backend', 'startup', 'restart'],
        ['batch-processor', 'scheduled', 'next-job'],
        ['fraud-scorer', 'dynamic', 'wait-cache'],
      ]);
    });

    it('says where it runs and whether it has a health check', () => {
      const [web, , batch, fraud] = buildPlan({ spec: spec(), age }).consumers;
      expect(web).toMatchObject({ where: 'payments/web-app', healthCheck: true });
      expect(batch).toMatchObject({ where: 'payments/batch-processor', healthCheck: false });
      expect(fraud).not.toHaveProperty('where');
    });

    it.each([
      ['startup', 'restart'],
      ['dynamic', 'wait-cache'],
      ['scheduled', 'next-job'],
    ] as const)('maps reload %s to %s', (reload, action) => {
      expect(consumerAction({ name: 'x', reload })).toBe(action);
    });
  });

  describe('what each step touches', () => {
    const touches = (name: string) =>
      buildPlan({ spec: spec(), age }).steps.find((s) => s.name === name)?.touches;

    it('force-syncs the shared ExternalSecret once, then restarts, waits and defers per consumer', () => {
      expect(touches('deploy')).toEqual([
        'force-sync ExternalSecret payment-gateway-secret',
        'restart web-app',
        'restart mobile-backend',
        'wait for fraud-scorer cache',
        'batch-processor: next job uses new',
      ]);
    });

    it('verifies each health-checked consumer and the new key at the issuer', () => {
      expect(touches('verify')).toEqual([
        'health web-app',
        'health mobile-backend',
        'new key active at payment-provider.example.com',
      ]);
    });

    it('reads the logs of a consumer that declares a log check', () => {
      const s = spec();
      s.consumers[1] = {
        ...s.consumers[1]!,
        health: { url: 'https://mobile.example.org/health', logs: { errorPattern: 'failed', tailLines: 50 } },
      };
      const verify = buildPlan({ spec: s, age }).steps.find((x) => x.name === 'verify');
      expect(verify?.touches).toEqual([
        'health web-app',
        'health mobile-backend',
        'logs of mobile-backend: no authentication errors',
        'new key active at payment-provider.example.com',
      ]);
    });

    it('keeps the previous version when storing the new one', () => {
      expect(touches('store-new')).toEqual([
        'secret/api-credentials/payment-gateway-api (new version, previous kept)',
      ]);
    });

    it('notifies the credential channel and contact, or the security channel when none is set', () => {
      expect(touches('notify')).toEqual(['#C_PAYMENTS', 'payments-team@example.org']);
      const noChannel = spec();
      delete noChannel.channel;
      const notify = buildPlan({ spec: noChannel, age }).steps.find((s) => s.name === 'notify');
      expect(notify?.touches).toEqual(['security channel', 'payments-team@example.org']);
    });
  });

  describe('when the summary channel cannot be posted in', () => {
    it('carries the reason, and nothing when there is none', () => {
      expect(buildPlan({ spec: spec(), age, channelProblem: 'C_PAYMENTS is archived' }).channelProblem).toBe(
        'C_PAYMENTS is archived',
      );
      expect(buildPlan({ spec: spec(), age })).not.toHaveProperty('channelProblem');
    });
  });

  describe('when the cluster was not checked', () => {
    it('flags nothing as undeclared or missing and leaves foundInCluster unset', () => {
      const plan = buildPlan({ spec: spec(), age });
      expect(plan.undeclared).toEqual([]);
      expect(plan.missing).toEqual([]);
      expect(plan.consumers.every((c) => c.foundInCluster === undefined)).toBe(true);
    });
  });

  describe('when the cluster matches the catalog', () => {
    it('flags nothing and marks every declared deployment found', () => {
      const discovered = [
        found('payments', 'web-app'),
        found('payments', 'mobile-backend'),
        found('payments', 'batch-processor'),
      ];
      const plan = buildPlan({ spec: spec(), age, discovered });
      expect(plan.undeclared).toEqual([]);
      expect(plan.missing).toEqual([]);
      expect(plan.consumers.filter((c) => c.where).every((c) => c.foundInCluster === true)).toBe(true);
    });
  });

  describe('when the cluster and the catalog disagree', () => {
    const discovered = [
      found('payments', 'web-app'),
      found('payments', 'batch-processor'),
      found('payments', 'reconciler'),
      found('legacy', 'billing-cron'),
    ];

    it('flags deployments in its namespaces that reference the secret but are not declared', () => {
      const plan = buildPlan({ spec: spec(), age, discovered });
      expect(plan.undeclared).toEqual(['payments/reconciler']);
    });

    it('ignores a same-named secret in a namespace the credential is not deployed to', () => {
      const plan = buildPlan({ spec: spec(), age, discovered });
      expect(plan.undeclared).not.toContain('legacy/billing-cron');
    });

    it('flags declared consumers the cluster does not show', () => {
      const plan = buildPlan({ spec: spec(), age, discovered });
      expect(plan.missing).toEqual(['mobile-backend']);
      expect(plan.consumers.find((c) => c.name === 'mobile-backend')?.foundInCluster).toBe(false);
      expect(plan.consumers.find((c) => c.name === 'web-app')?.foundInCluster).toBe(true);
    });

    it('does not call a consumer without a deployment missing', () => {
      const plan = buildPlan({ spec: spec(), age, discovered });
      expect(plan.missing).not.toContain('fraud-scorer');
      expect(plan.consumers.find((c) => c.name === 'fraud-scorer')?.foundInCluster).toBeUndefined();
    });

    it('counts the same deployment found twice once', () => {
      const plan = buildPlan({
        spec: spec(),
        age,
        discovered: [...discovered, found('payments', 'reconciler')],
      });
      expect(plan.undeclared).toEqual(['payments/reconciler']);
    });
  });

  describe("when the store's metadata disagrees with the catalog", () => {
    it('reports consumers on one side only, in both directions', () => {
      const plan = buildPlan({
        spec: spec(),
        age,
        storedConsumers: ['web-app', 'mobile-backend', 'fraud-scorer', 'old-reporting'],
      });
      expect(plan.drift).toEqual([
        "batch-processor is in the catalog but not in the store's metadata",
        "old-reporting is in the store's metadata but not in the catalog",
      ]);
    });

    it('reports a different issuer', () => {
      const plan = buildPlan({ spec: spec(), age, storedIssuer: 'old-provider.example.com' });
      expect(plan.drift).toEqual([
        'issuer is payment-provider.example.com in the catalog but old-provider.example.com in the store',
      ]);
    });
  });

  describe("when the store's metadata agrees with the catalog", () => {
    it('reports no drift', () => {
      const plan = buildPlan({
        spec: spec(),
        age,
        storedConsumers: ['fraud-scorer', 'batch-processor', 'mobile-backend', 'web-app'],
        storedIssuer: 'payment-provider.example.com',
      });
      expect(plan.drift).toEqual([]);
    });
  });

  describe('when the store has no metadata', () => {
    it('reports no drift', () => {
      expect(buildPlan({ spec: spec(), age }).drift).toEqual([]);
    });
  });

  it('never carries the admin token value', () => {
    expect(JSON.stringify(buildPlan({ spec: spec(), age }))).not.toContain('admin-token-value');
  });
});
