import { consumerDrift, discoveryScope } from '../../../src/domain/consumer-drift';
import type { DiscoveredConsumer } from '../../../src/domain/ports';
import { specFixture } from '../../helpers/fixtures';

const at = (namespace: string, deployment: string): DiscoveredConsumer => ({
  namespace,
  deployment,
  via: ['env'],
});
const spec = specFixture();

describe('consumerDrift', () => {
  describe('when the cluster matches the catalog', () => {
    it('reports nothing undeclared or missing', () => {
      const d = consumerDrift(spec, [at('payments', 'web-app'), at('payments', 'batch-processor')]);
      expect(d).toEqual({
        found: new Set(['payments/web-app', 'payments/batch-processor']),
        undeclared: [],
        missing: [],
      });
    });
  });

  describe('when a deployment references the secret but is not declared', () => {
    it('names it, sorted, as namespace/deployment', () => {
      const d = consumerDrift(spec, [
        at('payments', 'web-app'),
        at('payments', 'zz-reconciler'),
        at('payments', 'batch-processor'),
        at('payments', 'audit-export'),
      ]);
      expect(d.undeclared).toEqual(['payments/audit-export', 'payments/zz-reconciler']);
    });

    it('ignores namespaces the credential is not deployed to', () => {
      const d = consumerDrift(spec, [
        at('payments', 'web-app'),
        at('payments', 'batch-processor'),
        at('staging', 'web-app'),
      ]);
      expect(d.undeclared).toEqual([]);
      expect(d.found.has('staging/web-app')).toBe(false);
    });
  });

  describe('when a declared consumer does not reference the secret', () => {
    it('names the consumer; consumers outside Kubernetes are never missing', () => {
      const d = consumerDrift(spec, [at('payments', 'web-app')]);
      expect(d.missing).toEqual(['batch-processor']);
      expect(spec.consumers.some((c) => !c.kubernetes)).toBe(true);
    });
  });
});

describe('discoveryScope', () => {
  const consumer = (name: string, namespace?: string) => ({
    name,
    reload: 'startup' as const,
    ...(namespace ? { kubernetes: { namespace, deployment: name } } : {}),
  });

  it("names each consumer namespace once, sorted, with the catalog's selector", () => {
    expect(
      discoveryScope({
        consumers: [consumer('a', 'payments'), consumer('b', 'batch'), consumer('c', 'payments')],
        discoverySelector: 'team=payments',
      }),
    ).toEqual({ namespaces: ['batch', 'payments'], labelSelector: 'team=payments' });
  });

  it('is undefined when no consumer runs in Kubernetes: nothing to list', () => {
    expect(discoveryScope({ consumers: [consumer('a')] })).toBeUndefined();
  });
});
