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
      // Waits for the controller to act on the restart patch (generation 3), not only on the pause
      // before it: on a loaded machine the pause alone already shows DeploymentPaused.
      await eventually(() => {
        const d = k8s.deployment(NS, 'web-app') as { status?: { observedGeneration?: number } } | undefined;
        return d?.status?.observedGeneration === 3 && JSON.stringify(d).includes('DeploymentPaused');
      }, 15_000);
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

  describe('when listing with selectors and pages', () => {
    beforeEach(() => {
      for (const name of ['api', 'ui', 'worker']) k8s.addDeployment({ namespace: NS, name, secretRefs: [] });
    });

    const names = async (query: string) =>
      (await (await call(`/apis/apps/v1/namespaces/${NS}/deployments?${query}`)).json()) as {
        items: Array<{ metadata: { name: string } }>;
        metadata: { continue?: string; remainingItemCount?: number };
      };

    it('filters by label: k=v, k!=v, k in (…), and a bare key', async () => {
      const pick = async (selector: string) =>
        (await names(`labelSelector=${encodeURIComponent(selector)}`)).items.map((i) => i.metadata.name);
      expect(await pick('app=ui')).toEqual(['ui']);
      expect(await pick('app!=ui')).toEqual(['api', 'web-app', 'worker']);
      expect(await pick('app in (api,worker)')).toEqual(['api', 'worker']);
      expect(await pick('app')).toEqual(['api', 'ui', 'web-app', 'worker']);
      expect(await pick('!app')).toEqual([]);
      const bad = await call(
        `/apis/apps/v1/deployments?fieldSelector=${encodeURIComponent('spec.replicas=2')}`,
      );
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({
        reason: 'BadRequest',
        message: 'field label not supported: spec.replicas',
      });
    });

    it('pages with limit and continue, the last page without a continue token', async () => {
      const first = await names('limit=3');
      expect(first.items.map((i) => i.metadata.name)).toEqual(['api', 'ui', 'web-app']);
      expect(first.metadata.remainingItemCount).toBe(1);
      const second = await names(`limit=3&continue=${encodeURIComponent(first.metadata.continue!)}`);
      expect(second.items.map((i) => i.metadata.name)).toEqual(['worker']);
      expect(second.metadata.continue).toBeUndefined();
    });
  });

  describe('when a client keeps its connection alive', () => {
    it('counts one TLS connection for all its requests, and a new one for a new client', async () => {
      const { Agent } = await import('node:https');
      const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: k8s.caPem });
      const get = (a: InstanceType<typeof Agent>) =>
        new Promise<void>((resolve, reject) => {
          void import('node:https').then(({ request }) =>
            request(
              `${k8s.url}${deploymentPath}`,
              { agent: a, headers: { authorization: `Bearer ${TOKEN}` } },
              (res) => {
                res.resume();
                res.on('end', resolve);
              },
            )
              .on('error', reject)
              .end(),
          );
        });
      for (let i = 0; i < 3; i++) await get(agent);
      const other = new Agent({ keepAlive: true, ca: k8s.caPem });
      await get(other);
      agent.destroy();
      other.destroy();

      expect(k8s.connections()).toBe(2);
      expect(k8s.requests().map((r) => r.connection)).toEqual([1, 1, 1, 2]);
    });
  });

  describe('when watching', () => {
    /** Reads watch events until `n` arrived (or the stream ends). */
    async function events(path: string, n: number, act?: () => Promise<unknown>) {
      const { request } = await import('node:https');
      return new Promise<
        Array<{ type: string; object: { metadata: { name: string; resourceVersion: string } } }>
      >((resolve, reject) => {
        const got: Array<{ type: string; object: { metadata: { name: string; resourceVersion: string } } }> =
          [];
        const req = request(
          `${k8s.url}${path}`,
          { headers: { authorization: `Bearer ${TOKEN}` }, ca: k8s.caPem },
          (res) => {
            let buf = '';
            res.on('data', (d: Buffer) => {
              buf += d.toString();
              const lines = buf.split('\n');
              buf = lines.pop()!;
              for (const l of lines) got.push(JSON.parse(l) as (typeof got)[number]);
              if (got.length >= n) {
                req.destroy();
                resolve(got);
              }
            });
            res.on('end', () => resolve(got));
            void act?.();
          },
        );
        req.on('error', (e) => (got.length >= n ? undefined : reject(e)));
        req.end();
      });
    }

    it('starts with ADDED for what exists, then streams changes of the selected object only', async () => {
      k8s.addDeployment({ namespace: NS, name: 'other', secretRefs: [] });
      const got = await events(
        `/apis/apps/v1/namespaces/${NS}/deployments?watch=true&fieldSelector=metadata.name%3Dweb-app`,
        2,
        () =>
          call(`/apis/apps/v1/namespaces/${NS}/deployments/other`, {
            method: 'PATCH',
            contentType: 'application/merge-patch+json',
            body: { metadata: { labels: { a: 'b' } } },
          }).then(() =>
            call(deploymentPath, {
              method: 'PATCH',
              contentType: 'application/merge-patch+json',
              body: { metadata: { labels: { a: 'b' } } },
            }),
          ),
      );
      expect(got.map((e) => [e.type, e.object.metadata.name])).toEqual([
        ['ADDED', 'web-app'],
        ['MODIFIED', 'web-app'],
      ]);
    });

    it('resumes from a resourceVersion, replaying what changed since, and answers 410 Gone when that is too old', async () => {
      const rv = (
        (await (await call(`/api/v1/namespaces/${NS}/secrets`)).json()) as {
          metadata: { resourceVersion: string };
        }
      ).metadata.resourceVersion;
      k8s.addSecret(NS, 'payment-gateway-api', { api_key: 'v2' });
      k8s.addSecret(NS, 'another', { k: 'v' });
      const got = await events(`/api/v1/namespaces/${NS}/secrets?watch=1&resourceVersion=${rv}`, 2);
      expect(got.map((e) => [e.type, e.object.metadata.name])).toEqual([
        ['MODIFIED', 'payment-gateway-api'],
        ['ADDED', 'another'],
      ]);
      for (let i = 0; i < 2_100; i++) k8s.addSecret(NS, 'another', { k: String(i) });
      const gone = await events(`/api/v1/namespaces/${NS}/secrets?watch=1&resourceVersion=${rv}`, 1);
      expect(gone).toEqual([
        {
          type: 'ERROR',
          object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }),
        },
      ]);
    });

    it('sends a BOOKMARK at the current resourceVersion before timeoutSeconds ends a watch that asked for them', async () => {
      const rv = k8s.deployment(NS, 'web-app')!.metadata as { resourceVersion: string };
      const path = `/apis/apps/v1/namespaces/${NS}/deployments?watch=true&timeoutSeconds=1&resourceVersion=${rv.resourceVersion}`;
      const marked = await events(`${path}&allowWatchBookmarks=true`, 1);
      expect(marked).toEqual([
        {
          type: 'BOOKMARK',
          object: {
            kind: 'Deployment',
            apiVersion: 'apps/v1',
            metadata: { resourceVersion: expect.any(String) },
          },
        },
      ]);
      expect(Number(marked[0]!.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(
        Number(rv.resourceVersion),
      );
      // Without asking, the watch just ends at its timeout with nothing to say.
      expect(await events(path, 1)).toEqual([]);
    });

    it('sends DELETED for the pods a rollout replaces, which belong to the new ReplicaSet', async () => {
      const before = k8s.pods(NS, 'web-app');
      const got = await events(
        `/api/v1/namespaces/${NS}/pods?watch=true&labelSelector=app%3Dweb-app&resourceVersion=${
          (
            (await (await call(`/api/v1/namespaces/${NS}/pods`)).json()) as {
              metadata: { resourceVersion: string };
            }
          ).metadata.resourceVersion
        }`,
        4,
        () =>
          call(deploymentPath, {
            method: 'PATCH',
            contentType: 'application/strategic-merge-patch+json',
            body: restartBody,
          }),
      );
      expect(
        got
          .filter((e) => e.type === 'DELETED')
          .map((e) => e.object.metadata.name)
          .sort(),
      ).toEqual([...before].sort());
      await eventually(() => k8s.restarts(NS, 'web-app') === 1);
      const after = k8s.pods(NS, 'web-app');
      expect(after.some((p) => before.includes(p))).toBe(false);
      const pod = (await (await call(`/api/v1/namespaces/${NS}/pods/${after[0]!}`)).json()) as {
        metadata: { labels: Record<string, string>; ownerReferences: Array<{ kind: string; name: string }> };
        status: { phase: string };
      };
      const hash = pod.metadata.labels['pod-template-hash']!;
      expect(after[0]).toMatch(new RegExp(`^web-app-${hash}-[a-z0-9]{5}$`));
      expect(pod.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'ReplicaSet', name: `web-app-${hash}` }),
      ]);
      expect(pod.status.phase).toBe('Running');
    });
  });

  describe('when a pod is deleted', () => {
    it('the ReplicaSet replaces it, and the pod that kept running keeps the value it started with', async () => {
      k8s.addSecret(NS, 'payment-gateway-api', { api_key: 'rotated' });
      const [first] = k8s.pods(NS, 'web-app');
      expect((await call(`/api/v1/namespaces/${NS}/pods/${first!}`, { method: 'DELETE' })).status).toBe(200);
      await eventually(
        () => k8s.pods(NS, 'web-app').length === 2 && !k8s.pods(NS, 'web-app').includes(first!),
      );
      expect(k8s.pods(NS, 'web-app')).not.toContain(first);
      expect(k8s.podValue(NS, 'web-app', 'payment-gateway-api', 'api_key')).toBe('old-value');
    });
  });

  describe('when an update or patch carries a stale resourceVersion', () => {
    it('answers 409 Conflict to both, and a PUT with the current one succeeds', async () => {
      const current = (await (await call(deploymentPath)).json()) as {
        metadata: { resourceVersion: string };
      } & Record<string, unknown>;
      const stale = { ...current, metadata: { ...current.metadata, resourceVersion: '1' } };
      const put = await call(deploymentPath, { method: 'PUT', contentType: 'application/json', body: stale });
      expect(put.status).toBe(409);
      expect(await put.json()).toMatchObject({
        reason: 'Conflict',
        details: { name: 'web-app', group: 'apps', kind: 'deployments' },
      });
      const patch = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { metadata: { resourceVersion: '1' } },
      });
      expect(patch.status).toBe(409);
      const ok = await call(deploymentPath, {
        method: 'PUT',
        contentType: 'application/json',
        body: current,
      });
      expect(ok.status).toBe(200);
    });
  });

  describe('when a field has the wrong type', () => {
    it('answers 422 Invalid to a patch and 400 to a replace, naming the Go type', async () => {
      const patched = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/strategic-merge-patch+json',
        body: { spec: { replicas: 'two' } },
      });
      expect(patched.status).toBe(422);
      expect(await patched.json()).toMatchObject({
        reason: 'Invalid',
        message:
          ' "" is invalid: patch: Invalid value: "map[spec:map[replicas:two]]": unrecognized type: int32',
        details: { causes: [{ reason: 'FieldValueInvalid', field: 'patch' }] },
      });
      const negative = await call(deploymentPath, {
        method: 'PATCH',
        contentType: 'application/merge-patch+json',
        body: { spec: { replicas: -1 } },
      });
      expect(negative.status).toBe(422);
      expect(await negative.json()).toMatchObject({
        message:
          'Deployment.apps "web-app" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      });
      const current = (await (await call(deploymentPath)).json()) as {
        spec: Record<string, unknown>;
      } & Record<string, unknown>;
      const put = await call(deploymentPath, {
        method: 'PUT',
        contentType: 'application/json',
        body: { ...current, spec: { ...current.spec, replicas: 'two' } },
      });
      expect(put.status).toBe(400);
      expect(await put.json()).toMatchObject({
        message:
          'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
      });
    });
  });

  describe('when discovering', () => {
    it('serves /version, /api, /apis and each group-version, v1beta1 ExternalSecrets included', async () => {
      expect(await (await call('/version')).json()).toMatchObject({ major: '1', minor: '32' });
      expect(await (await call('/api')).json()).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
      const groups = (await (await call('/apis')).json()) as {
        groups: Array<{ name: string; preferredVersion: { version: string } }>;
      };
      expect(groups.groups.map((g) => [g.name, g.preferredVersion.version])).toEqual([
        ['apps', 'v1'],
        ['external-secrets.io', 'v1'],
      ]);
      const beta = (await (await call('/apis/external-secrets.io/v1beta1')).json()) as {
        resources: Array<{ name: string; shortNames?: string[] }>;
      };
      expect(beta.resources[0]).toMatchObject({ name: 'externalsecrets', shortNames: ['es'] });
      const es = await (
        await call(`/apis/external-secrets.io/v1beta1/namespaces/${NS}/externalsecrets/payment-gateway-api`)
      ).json();
      expect(es).toMatchObject({ apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret' });
      const core = (await (await call('/api/v1')).json()) as { resources: Array<{ name: string }> };
      expect(core.resources.map((r) => r.name)).toEqual(['pods', 'pods/log', 'secrets']);
    });
  });
});
