import { createKubernetesDouble, type KubernetesDouble } from '../../../sandbox/kubernetes';
import { eventually } from '../../helpers/eventually';
import { tlsFetch } from '../../helpers/tls-fetch';

const TOKEN = 'test-token';
const NS = 'prod';

describe('Kubernetes double (raw HTTP)', () => {
  let k8s: KubernetesDouble;
  let remote: Record<string, string>;

  beforeEach(async () => {
    remote = { 'api-credentials/payment-gateway-api': 'new-value' };
    k8s = await createKubernetesDouble({
      token: TOKEN,
      rolloutDelayMs: 20,
      syncDelayMs: 5,
      resolveRemoteRef: (key) => Promise.resolve(remote[key]),
    });
    k8s.addSecret(NS, 'payment-gateway-api', { api_key: 'old-value' });
    k8s.addDeployment({
      namespace: NS,
      name: 'web-app',
      replicas: 2,
      secretRefs: [{ secret: 'payment-gateway-api', via: 'env' }],
    });
    k8s.addExternalSecret(NS, 'payment-gateway-api', {
      target: 'payment-gateway-api',
      data: [
        {
          secretKey: 'api_key',
          remoteRef: { key: 'api-credentials/payment-gateway-api', property: 'api_key' },
        },
      ],
    });
  });

  afterEach(async () => {
    await k8s.close();
  });

  const call = (
    path: string,
    init: { method?: string; contentType?: string; body?: unknown; token?: string | null } = {},
  ) =>
    tlsFetch(k8s.caPem)(`${k8s.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...(init.token === null ? {} : { authorization: `Bearer ${init.token ?? TOKEN}` }),
        ...(init.contentType ? { 'content-type': init.contentType } : {}),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });

  const deploymentPath = `/apis/apps/v1/namespaces/${NS}/deployments/web-app`;
  const esPath = `/apis/external-secrets.io/v1/namespaces/${NS}/externalsecrets/payment-gateway-api`;
  const restartBody = {
    spec: {
      template: {
        metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-03-01T10:00:00Z' } },
      },
    },
  };

  describe('when a request carries no bearer token', () => {
    it('answers 401 with a Status object', async () => {
      const res = await call(deploymentPath, { token: null });
      expect(res.status).toBe(401);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toEqual({
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'Unauthorized',
        reason: 'Unauthorized',
        code: 401,
      });
    });

    it('answers 401 for a wrong token too', async () => {
      expect((await call(deploymentPath, { token: 'nope' })).status).toBe(401);
    });
  });

  describe('when an object does not exist', () => {
    it('answers 404 NotFound worded like the apiserver', async () => {
      const res = await call(`/apis/apps/v1/namespaces/${NS}/deployments/ghost`);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toBe('application/json');
      expect(await res.json()).toMatchObject({
        kind: 'Status',
        reason: 'NotFound',
        code: 404,
        message: 'deployments.apps "ghost" not found',
      });
    });
  });

  describe('when an ExternalSecret is patched with strategic-merge-patch', () => {
    it('answers 415 like every custom resource', async () => {
      const res = await call(esPath, {
        method: 'PATCH',
        contentType: 'application/strategic-merge-patch+json',
        body: { metadata: { annotations: { 'force-sync': '1' } } },
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
    });
  });

  describe('when a patch has an unknown content type', () => {
    it('answers 415', async () => {
      const res = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/json',
        body: restartBody,
      });
      expect(res.status).toBe(415);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType' });
    });
  });

  describe('when a json-patch body is an object instead of a list of operations', () => {
    it('answers 400 BadRequest', async () => {
      const res = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/json-patch+json',
        body: restartBody,
      });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'BadRequest', code: 400 });
    });
  });

  describe('when the pod template is patched', () => {
    it('bumps the generation, then rolls out and the pods pick up the current secret', async () => {
      k8s.addSecret(NS, 'payment-gateway-api', { api_key: 'rotated' });
      expect(k8s.podValue(NS, 'web-app', 'payment-gateway-api', 'api_key')).toBe('old-value');

      const res = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/strategic-merge-patch+json',
        body: restartBody,
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        metadata: { generation: 2 },
        status: { observedGeneration: 1 },
      });

      await eventually(() => k8s.restarts(NS, 'web-app') === 1);
      expect(k8s.deployment(NS, 'web-app')).toMatchObject({
        status: { observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2 },
      });
      expect(k8s.podValue(NS, 'web-app', 'payment-gateway-api', 'api_key')).toBe('rotated');
    });
  });

  describe('when the deployment is paused', () => {
    it('accepts the patch but never rolls out', async () => {
      await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { spec: { paused: true } },
      });
      const res = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/strategic-merge-patch+json',
        body: restartBody,
      });
      expect(res.status).toBe(200);
      await eventually(
        () =>
          k8s.deployment(NS, 'web-app')?.status !== undefined &&
          JSON.stringify(k8s.deployment(NS, 'web-app')).includes('DeploymentPaused'),
      );
      // The controller has acted on the patch (paused status): no rollout is left to come.
      expect(k8s.restarts(NS, 'web-app')).toBe(0);
      expect(k8s.deployment(NS, 'web-app')).toMatchObject({
        metadata: { generation: 3 },
        status: { observedGeneration: 3, updatedReplicas: 0 },
      });
    });
  });

  describe('when an ExternalSecret annotation changes (merge patch)', () => {
    it('refreshes the target Secret from the provider and marks it Ready', async () => {
      const res = await call(esPath, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { 'force-sync': '1772359200' } } },
      });
      expect(res.status).toBe(200);
      await eventually(() => k8s.secret(NS, 'payment-gateway-api')?.api_key === 'new-value');
      const secret = (await (await call(`/api/v1/namespaces/${NS}/secrets/payment-gateway-api`)).json()) as {
        data: { api_key: string };
      };
      expect(secret.data.api_key).toBe(Buffer.from('new-value').toString('base64'));
      expect(k8s.externalSecret(NS, 'payment-gateway-api')).toMatchObject({
        status: {
          refreshTime: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
          conditions: [{ type: 'Ready', status: 'True', reason: 'SecretSynced' }],
        },
      });
      expect(k8s.podValue(NS, 'web-app', 'payment-gateway-api', 'api_key')).toBe('old-value');
    });

    it('reports SecretSyncedError when the provider has no value', async () => {
      delete remote['api-credentials/payment-gateway-api'];
      await call(esPath, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { 'force-sync': '2' } } },
      });
      await eventually(() =>
        JSON.stringify(k8s.externalSecret(NS, 'payment-gateway-api')).includes('SecretSyncedError'),
      );
      expect(k8s.secret(NS, 'payment-gateway-api')).toEqual({ api_key: 'old-value' });
    });
  });

  describe('when listing', () => {
    it('lists deployments across namespaces and secrets per namespace', async () => {
      k8s.addDeployment({ namespace: 'staging', name: 'batch-processor', secretRefs: [] });
      const all = (await (await call('/apis/apps/v1/deployments')).json()) as {
        kind: string;
        items: unknown[];
      };
      expect(all.kind).toBe('DeploymentList');
      expect(all.items).toHaveLength(2);
      const prod = (await (await call(`/apis/apps/v1/namespaces/${NS}/deployments`)).json()) as {
        items: unknown[];
      };
      expect(prod.items).toHaveLength(1);
      const secrets = (await (await call(`/api/v1/namespaces/${NS}/secrets`)).json()) as {
        kind: string;
        items: unknown[];
      };
      expect(secrets).toMatchObject({
        kind: 'SecretList',
        items: [{ metadata: { name: 'payment-gateway-api' } }],
      });
    });
  });

  describe('when a fault is injected over HTTP', () => {
    it('answers with it, then recovers', async () => {
      await tlsFetch(k8s.caPem)(`${k8s.url}/_faults`, {
        method: 'POST',
        body: JSON.stringify({ path: '/deployments/', status: 503, body: { kind: 'Status' }, times: 1 }),
      });
      expect((await call(deploymentPath)).status).toBe(503);
      expect((await call(deploymentPath)).status).toBe(200);
      const state = (await (await call('/_state')).json()) as {
        secrets: Array<{ data: Record<string, string> }>;
      };
      expect(state.secrets[0]?.data).toEqual({ api_key: 'old-value' });
    });

    it('does not dump the cluster state, Secret values included, without the token', async () => {
      expect((await call('/_state', { token: null })).status).toBe(401);
    });
  });
});
