import type { V1Container, V1Deployment, V1Volume } from '@kubernetes/client-node';
import { secretReferences } from '../../../src/adapters/deployers/secret-references';

function deployment(pod: {
  containers?: V1Container[];
  initContainers?: V1Container[];
  volumes?: V1Volume[];
}): V1Deployment {
  return {
    metadata: { name: 'web-app', namespace: 'prod' },
    spec: { selector: {}, template: { spec: { containers: pod.containers ?? [], ...pod } } },
  };
}

const envFromKey = (secret: string): V1Container => ({
  name: 'app',
  env: [
    { name: 'PLAIN', value: 'x' },
    { name: 'API_KEY', valueFrom: { secretKeyRef: { name: secret, key: 'api_key' } } },
  ],
});

describe('secretReferences', () => {
  describe('when a container reads one key into an env var', () => {
    it('reports env', () => {
      expect(
        secretReferences(
          deployment({ containers: [envFromKey('payment-gateway-api')] }),
          'payment-gateway-api',
        ),
      ).toEqual(['env']);
    });
  });

  describe('when a container imports the whole secret with envFrom', () => {
    it('reports envFrom', () => {
      const c: V1Container = {
        name: 'app',
        envFrom: [
          { configMapRef: { name: 'payment-gateway-api' } },
          { secretRef: { name: 'payment-gateway-api' } },
        ],
      };
      expect(secretReferences(deployment({ containers: [c] }), 'payment-gateway-api')).toEqual(['envFrom']);
    });
  });

  describe('when the secret is mounted as a volume', () => {
    it('reports volume for a secret volume', () => {
      const volumes: V1Volume[] = [{ name: 'creds', secret: { secretName: 'payment-gateway-api' } }];
      expect(secretReferences(deployment({ volumes }), 'payment-gateway-api')).toEqual(['volume']);
    });

    it('reports volume for a projected volume source', () => {
      const volumes: V1Volume[] = [
        { name: 'creds', projected: { sources: [{ secret: { name: 'payment-gateway-api' } }] } },
      ];
      expect(secretReferences(deployment({ volumes }), 'payment-gateway-api')).toEqual(['volume']);
    });
  });

  describe('when an init container and a volume both use it', () => {
    it('reports every way, in a fixed order and without duplicates', () => {
      const d = deployment({
        initContainers: [envFromKey('payment-gateway-api')],
        containers: [
          envFromKey('payment-gateway-api'),
          { name: 'side', envFrom: [{ secretRef: { name: 'payment-gateway-api' } }] },
        ],
        volumes: [{ name: 'creds', secret: { secretName: 'payment-gateway-api' } }],
      });
      expect(secretReferences(d, 'payment-gateway-api')).toEqual(['env', 'envFrom', 'volume']);
    });
  });

  describe('when only other secrets, config maps or same-named keys are used', () => {
    it('reports nothing', () => {
      const d = deployment({
        containers: [
          envFromKey('crm-integration'),
          {
            name: 'cm',
            env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'payment-gateway-api', key: 'k' } } }],
          },
        ],
        volumes: [
          { name: 'cfg', configMap: { name: 'payment-gateway-api' } },
          { name: 'other', secret: { secretName: 'payment-gateway-api-old' } },
        ],
      });
      expect(secretReferences(d, 'payment-gateway-api')).toEqual([]);
    });
  });

  describe('when the deployment has no pod spec', () => {
    it('reports nothing', () => {
      expect(secretReferences({ metadata: { name: 'x' } }, 'payment-gateway-api')).toEqual([]);
    });
  });
});
