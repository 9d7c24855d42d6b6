import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { valueDigest } from '../../../src/adapters/value-digest';
import { AppsV1Api, PatchStrategy, setHeaderOptions, type V1Deployment } from '@kubernetes/client-node';
import { DEFAULT_MAX_SOCKETS, kubeConfigFrom } from '../../../src/adapters/deployers/kubeconfig';
import { KubernetesDeployer } from '../../../src/adapters/deployers/kubernetes-deployer';
import { rolloutStatus } from '../../../src/adapters/deployers/rollout-status';
import { createKubernetesDouble, type KubernetesDouble } from '../../../sandbox/kubernetes';
import { eventually } from '../../helpers/eventually';

const NS = 'prod';
const SECRET = 'payment-gateway-api';
const web = { namespace: NS, deployment: 'web-app' };
/** The rollout state of the double's own copy of a deployment. */
const rolloutStatusOf = (d: unknown) => rolloutStatus(d as V1Deployment);

describe('KubernetesDeployer against the Kubernetes double', () => {
  let k8s: KubernetesDouble;
  let dir: string;
  let deployer: KubernetesDeployer;
  let remote: Record<string, string>;
  let onRetry: jest.Mock;

  beforeEach(async () => {
    remote = {};
    onRetry = jest.fn();
    k8s = await createKubernetesDouble({
      token: 'sa-token',
      rolloutDelayMs: 250, // long enough that "waiting" is seen on a loaded machine
      syncDelayMs: 5,
      resolveRemoteRef: (key, property) => Promise.resolve(remote[`${key}#${property}`]),
    });
    k8s.addSecret(NS, SECRET, { api_key: 'old-value' });
    k8s.addDeployment({
      namespace: NS,
      name: 'web-app',
      replicas: 2,
      secretRefs: [{ secret: SECRET, via: 'env' }],
    });
    dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
    const path = join(dir, 'config');
    await writeFile(path, k8s.kubeconfig());
    deployer = new KubernetesDeployer(kubeConfigFrom({ kubeconfigPath: path }), {
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, onRetry },
      timeoutMs: 2_000,
    });
  });

  afterEach(async () => {
    deployer.close();
    await k8s.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The rollout status once it stops reporting `waiting`. */
  const settledRollout = (ref: typeof web) =>
    eventually(async () => {
      const s = await deployer.rolloutStatus(ref);
      return s.state === 'waiting' ? undefined : s;
    });

  describe('when a deployment is restarted', () => {
    it('reports waiting, then done, and the pods run with the current secret', async () => {
      k8s.addSecret(NS, SECRET, { api_key: 'new-value' });
      await deployer.restart(web, new Date('2026-03-01T10:00:00.500Z'));

      expect(await deployer.rolloutStatus(web)).toEqual({ state: 'waiting', reason: expect.any(String) });
      expect(await settledRollout(web)).toEqual({ state: 'done' });
      expect(k8s.restarts(NS, 'web-app')).toBe(1);
      expect(k8s.podValue(NS, 'web-app', SECRET, 'api_key')).toBe('new-value');
      expect(k8s.deployment(NS, 'web-app')).toMatchObject({
        spec: {
          template: {
            metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-03-01T10:00:00Z' } },
          },
        },
      });
    });
  });

  describe('when the new pods never become available', () => {
    it('reports the rollout as failed', async () => {
      k8s.failNextRollout(NS, 'web-app');
      await deployer.restart(web, new Date());
      expect(await settledRollout(web)).toEqual({
        state: 'failed',
        reason: expect.stringContaining('progress deadline'),
      });
      expect(k8s.podValue(NS, 'web-app', SECRET, 'api_key')).toBe('old-value');
    });
  });

  describe('when the deployment is paused', () => {
    it('refuses to restart it', async () => {
      k8s.addDeployment({ namespace: NS, name: 'mobile-backend', paused: true, secretRefs: [] });
      await expect(
        deployer.restart({ namespace: NS, deployment: 'mobile-backend' }, new Date()),
      ).rejects.toMatchObject({
        code: 'deploy_failed',
        transient: false,
        message: expect.stringContaining('paused deployment prod/mobile-backend'),
      });
      expect(k8s.deployment(NS, 'mobile-backend')).toMatchObject({ metadata: { generation: 1 } });
    });
  });

  describe('when discovery listed the deployment a moment before the restart', () => {
    const patches = () => k8s.requests().filter((r) => r.method === 'PATCH');
    const reads = () => k8s.requests().filter((r) => r.method === 'GET' && r.path.startsWith(deploymentPath));
    const deploymentPath = `/apis/apps/v1/namespaces/${NS}/deployments/web-app`;

    it('patches it at once, with the listed resourceVersion as precondition, and reads nothing', async () => {
      await deployer.discover(SECRET, { namespaces: [NS] });
      const before = k8s.requests().length;

      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));

      expect(
        k8s
          .requests()
          .slice(before)
          .map((r) => r.method),
      ).toEqual(['PATCH']);
      expect(await settledRollout(web)).toEqual({ state: 'done' });
      expect(k8s.restarts(NS, 'web-app')).toBe(1);
    });

    it('reads it as kubectl does when it changed since, and still refuses a paused one', async () => {
      await deployer.discover(SECRET, { namespaces: [NS] });
      await someoneElse().patchNamespacedDeployment(
        { namespace: NS, name: 'web-app', body: { spec: { paused: true } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      const before = k8s.requests().length;

      await expect(deployer.restart(web, new Date())).rejects.toMatchObject({
        code: 'deploy_failed',
        message: expect.stringContaining('paused deployment prod/web-app'),
      });

      // The precondition failed (409), then the read found it paused: nothing written.
      expect(
        k8s
          .requests()
          .slice(before)
          .map((r) => r.method),
      ).toEqual(['PATCH', 'GET']);
      expect(k8s.deployment(NS, 'web-app')).not.toHaveProperty([
        'spec',
        'template',
        'metadata',
        'annotations',
        'kubectl.kubernetes.io/restartedAt',
      ]);
    });

    it('sends no second patch for a restart an earlier attempt already applied', async () => {
      const at = new Date('2026-03-01T10:00:00Z');
      await deployer.restart(web, at);
      const before = patches().length;

      await deployer.restart(web, at);

      expect(patches().length).toBe(before);
      expect(reads().length).toBeGreaterThanOrEqual(2);
      expect(await settledRollout(web)).toEqual({ state: 'done' });
      expect(k8s.restarts(NS, 'web-app')).toBe(1);
    });

    /** A client of its own, as kubectl would be: not the deployer's caches. */
    function someoneElse(): AppsV1Api {
      return kubeConfigFrom({ kubeconfigPath: join(dir, 'config') }).makeApiClient(AppsV1Api);
    }
  });

  describe('when an ExternalSecret is force-synced', () => {
    beforeEach(() => {
      k8s.addExternalSecret(NS, SECRET, {
        target: SECRET,
        data: [
          {
            secretKey: 'api_key',
            remoteRef: { key: 'api-credentials/payment-gateway-api', property: 'api_key' },
          },
        ],
      });
      remote['api-credentials/payment-gateway-api#api_key'] = 'from-vault';
    });
    const digest = valueDigest('from-vault');
    const esPath = `/apis/external-secrets.io/v1/namespaces/${NS}/externalsecrets/${SECRET}`;

    it('sends the same annotation once only when an earlier attempt may have landed', async () => {
      const at = new Date();
      await deployer.forceSync(NS, SECRET, at);
      const before = k8s.requests().length;

      await deployer.forceSync(NS, SECRET, at, { mayHaveLanded: true });

      expect(
        k8s
          .requests()
          .slice(before)
          .map((r) => `${r.method} ${r.path.split('?')[0]}`),
      ).toEqual([`GET ${esPath}`]);
    });

    it('patches when the earlier attempt did not land', async () => {
      const at = new Date();
      await deployer.forceSync(NS, SECRET, at, { mayHaveLanded: true });
      expect(k8s.externalSecret(NS, SECRET)).toMatchObject({
        metadata: { annotations: { 'force-sync': String(at.getTime()) } },
      });
    });

    it('looks only at the Secret once the force-sync answer named it and a digest is given', async () => {
      const at = new Date();
      await deployer.forceSync(NS, SECRET, at);
      const before = k8s.requests().length;

      await eventually(() => deployer.synced(NS, SECRET, at, digest));

      const looked = k8s.requests().slice(before);
      expect(looked.every((r) => r.path.startsWith(`/api/v1/namespaces/${NS}/secrets/${SECRET}`))).toBe(true);
      expect(await deployer.synced(NS, SECRET, at, 'another-digest')).toBe(false);
    });
  });

  describe('when an ExternalSecret is force-synced, from the start', () => {
    it('the operator updates the Secret from the store and synced() turns true', async () => {
      k8s.addExternalSecret(NS, SECRET, {
        target: SECRET,
        data: [
          {
            secretKey: 'api_key',
            remoteRef: { key: 'api-credentials/payment-gateway-api', property: 'api_key' },
          },
        ],
      });
      remote['api-credentials/payment-gateway-api#api_key'] = 'from-vault';
      const at = new Date();
      expect(await deployer.synced(NS, SECRET, at)).toBe(false);

      await deployer.forceSync(NS, SECRET, at);

      await eventually(() => deployer.synced(NS, SECRET, at));
      expect(k8s.secret(NS, SECRET)).toEqual({ api_key: 'from-vault' });
      expect(k8s.externalSecret(NS, SECRET)).toMatchObject({
        metadata: { annotations: { 'force-sync': String(at.getTime()) } },
      });
      expect(k8s.podValue(NS, 'web-app', SECRET, 'api_key')).toBe('old-value');
    });
  });

  describe('when discovering consumers of a secret', () => {
    it('finds env, envFrom and volume references in every namespace, and nothing else', async () => {
      k8s.addDeployment({
        namespace: 'mobile',
        name: 'mobile-backend',
        secretRefs: [{ secret: SECRET, via: 'envFrom' }],
      });
      k8s.addDeployment({
        namespace: 'batch',
        name: 'batch-processor',
        secretRefs: [
          { secret: SECRET, via: 'volume' },
          { secret: SECRET, key: 'api_key', via: 'env' },
        ],
      });
      k8s.addDeployment({
        namespace: NS,
        name: 'crm-sync',
        secretRefs: [{ secret: 'crm-integration', via: 'env' }],
      });

      const found = await deployer.discover(SECRET);

      expect(found).toEqual(
        expect.arrayContaining([
          { namespace: NS, deployment: 'web-app', via: ['env'] },
          { namespace: 'mobile', deployment: 'mobile-backend', via: ['envFrom'] },
          { namespace: 'batch', deployment: 'batch-processor', via: ['env', 'volume'] },
        ]),
      );
      expect(found).toHaveLength(3);
    });
  });

  describe('when discovery is scoped to namespaces and a label selector', () => {
    it('lists only those namespaces, one list each, and only the deployments the selector matches', async () => {
      for (const [namespace, name] of [
        ['mobile', 'mobile-backend'],
        ['batch', 'batch-processor'],
        ['staging', 'web-app'],
      ] as const) {
        k8s.addDeployment({ namespace, name, secretRefs: [{ secret: SECRET, via: 'env' }] });
      }
      const before = k8s.requests().length;

      const found = await deployer.discover(SECRET, {
        namespaces: [NS, 'batch', 'mobile'],
        labelSelector: 'app in (web-app,batch-processor)',
      });

      expect(found).toEqual([
        { namespace: 'batch', deployment: 'batch-processor', via: ['env'] },
        { namespace: NS, deployment: 'web-app', via: ['env'] },
      ]);
      expect(
        k8s
          .requests()
          .slice(before)
          .map((r) => r.path.split('?')[0]),
      ).toEqual([
        '/apis/apps/v1/namespaces/batch/deployments',
        '/apis/apps/v1/namespaces/mobile/deployments',
        `/apis/apps/v1/namespaces/${NS}/deployments`,
      ]);
    });
  });

  describe('when discovery runs while a rollout watch holds the namespace', () => {
    const lists = () =>
      k8s.requests().filter((r) => r.method === 'GET' && /\/deployments(\?(?!.*watch=)|$)/.test(r.path))
        .length;
    const names = (found: { deployment: string }[]) => found.map((f) => f.deployment).sort();

    it('lists once, then answers from the watch, changes made since included', async () => {
      expect(names(await deployer.discover(SECRET, { namespaces: [NS] }))).toEqual(['web-app']);
      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));
      expect(await deployer.rolloutsSettled([web], 20_000)).toBe(true);

      k8s.addDeployment({ namespace: NS, name: 'api', secretRefs: [{ secret: SECRET, via: 'volume' }] });
      k8s.addDeployment({ namespace: NS, name: 'docs', secretRefs: [] });
      await eventually(async () =>
        names(await deployer.discover(SECRET, { namespaces: [NS] })).includes('api') ? true : undefined,
      );
      expect(await deployer.discover(SECRET, { namespaces: [NS] })).toEqual(
        expect.arrayContaining([{ namespace: NS, deployment: 'api', via: ['volume'] }]),
      );
      expect(lists()).toBe(1);
    });

    it('lists every time while no watch runs (refused)', async () => {
      k8s.faults.add({
        path: 'watch=true',
        status: 403,
        body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 },
      });
      await deployer.discover(SECRET, { namespaces: [NS] });
      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));
      expect(await deployer.rolloutsSettled([web], 20_000)).toBe(false);

      k8s.addDeployment({ namespace: NS, name: 'api', secretRefs: [{ secret: SECRET, via: 'env' }] });
      expect(names(await deployer.discover(SECRET, { namespaces: [NS] }))).toEqual(['api', 'web-app']);
      expect(lists()).toBe(2);
    });
  });

  describe('when a watch follows a rollout', () => {
    it('says so as soon as it is done, and the status is then read from the watch', async () => {
      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));
      expect(await deployer.rolloutsSettled([web], 20_000)).toBe(true);
      const before = k8s.requests().length;

      expect(await deployer.rolloutStatus(web)).toEqual({ state: 'done' });
      expect(k8s.restarts(NS, 'web-app')).toBe(1);
      expect(k8s.requests().slice(before)).toEqual([]);
    });

    it('lets its waiter go to the poll when the watch breaks, and the next look reads the deployment', async () => {
      k8s.faults.add({ path: 'watch=true', status: 500, body: { kind: 'Status', code: 500 }, times: 1 });
      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));
      expect(await deployer.rolloutsSettled([web], 20_000)).toBe(false);
      const before = k8s.requests().length;

      await deployer.rolloutStatus(web);
      expect(
        k8s
          .requests()
          .slice(before)
          .map((r) => r.method + ' ' + r.path),
      ).toEqual([`GET /apis/apps/v1/namespaces/${NS}/deployments/web-app`]);
    });

    it.each([
      [
        'refused (no watch verb)',
        {
          status: 403,
          body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 },
        },
      ],
      ['answered and ended at once (a proxy that does not stream)', { status: 200, body: '' }],
    ])('starts no new watch of a namespace for a while after one is %s', async (_, answer) => {
      k8s.faults.add({ path: 'watch=true', ...answer });
      const watches = () => k8s.faults.applied().filter((r) => r.path.includes('watch=true')).length;
      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));

      // Each look the run makes: wait for the watch (which can only end, not wake it), then read.
      expect(await deployer.rolloutsSettled([web], 20_000)).toBe(false);
      for (let look = 0; look < 5; look++) {
        await deployer.rolloutStatus(web);
        await deployer.rolloutsSettled([web], 50);
      }

      expect(watches()).toBe(1);
      expect(await settledRollout(web)).toEqual({ state: 'done' });
    });

    it('does not report a deployment as the watch shows it before the watch has connected', async () => {
      // The watch's answer is slow to come; the rollout finishes meanwhile.
      k8s.faults.add({ path: 'watch=true', latencyMs: 1_500, times: 1 });
      await deployer.restart(web, new Date('2026-03-01T10:00:00Z'));
      expect(await deployer.rolloutsSettled([web], 50)).toBe(false);
      await eventually(() => rolloutStatusOf(k8s.deployment(NS, 'web-app')).state === 'done');

      expect(await deployer.rolloutStatus(web)).toEqual({ state: 'done' });
      // The slow watch is served in the end (and the double holds no timer past the test).
      await eventually(() => k8s.requests().some((r) => r.path.includes('watch=true')));
    });

    it("learns of another cached deployment's finished rollout when a watch starts for a later one", async () => {
      k8s.addDeployment({ namespace: NS, name: 'worker', secretRefs: [] });
      const worker = { namespace: NS, deployment: 'worker' };
      // worker is read mid-rollout, and its rollout finishes with no watch running.
      await deployer.restart(worker, new Date('2026-03-01T10:00:00Z'));
      expect(await deployer.rolloutStatus(worker)).toMatchObject({ state: 'waiting' });
      await eventually(() => rolloutStatusOf(k8s.deployment(NS, 'worker')).state === 'done');
      // Then a watch starts for web-app, read after worker's rollout finished.
      await deployer.restart(web, new Date('2026-03-01T10:00:01Z'));
      expect(await deployer.rolloutsSettled([web], 20_000)).toBe(true);
      const before = k8s.requests().length;

      expect(await deployer.rolloutStatus(worker)).toEqual({ state: 'done' });
      // The watch started after worker's read, so it showed the rollout finishing: no read needed.
      expect(k8s.requests().slice(before)).toEqual([]);
    });

    it('watches more namespaces at once than the API calls have sockets', async () => {
      const namespaces = Array.from({ length: DEFAULT_MAX_SOCKETS + 2 }, (_, i) => `team-${i}`);
      for (const namespace of namespaces) k8s.addDeployment({ namespace, name: 'app', secretRefs: [] });
      const refs = namespaces.map((namespace) => ({ namespace, deployment: 'app' }));
      for (const ref of refs) await deployer.restart(ref, new Date('2026-03-01T10:00:00Z'));

      // One waiter per namespace, as concurrent runs of one incident; the watches last 30 s.
      const woken = await Promise.all(refs.map((ref) => deployer.rolloutsSettled([ref], 15_000)));

      expect(woken).toEqual(refs.map(() => true));
    });

    it('answers false when nothing settles within the time given', async () => {
      k8s.addDeployment({ namespace: NS, name: 'slow', paused: true, secretRefs: [] });
      const slow = { namespace: NS, deployment: 'slow' };
      await expect(deployer.restart(slow, new Date())).rejects.toMatchObject({ code: 'deploy_failed' });
      await deployer.rolloutStatus(slow);
      expect(await deployer.rolloutsSettled([{ namespace: NS, deployment: 'missing' }], 200)).toBe(false);
    });
  });

  describe("when the server's certificate was not signed by the kubeconfig's CA", () => {
    it('refuses to talk to it, once, saying why', async () => {
      const path = join(dir, 'no-ca');
      // Without certificate-authority-data the client trusts only the system roots.
      await writeFile(path, k8s.kubeconfig().replace(/^\s*certificate-authority-data:.*$/m, ''));
      const untrusting = new KubernetesDeployer(kubeConfigFrom({ kubeconfigPath: path }), {
        retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5, onRetry },
        timeoutMs: 2_000,
      });
      await expect(untrusting.rolloutStatus(web)).rejects.toMatchObject({
        code: 'deploy_failed',
        transient: false,
        message: expect.stringMatching(/certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/),
      });
      expect(onRetry).not.toHaveBeenCalled();
      expect(k8s.kubeconfig()).toMatch(/certificate-authority-data: \S+/);
      expect(k8s.kubeconfig()).not.toContain('insecure-skip-tls-verify');
    });
  });

  describe('when the deployment does not exist', () => {
    it('fails with deploy_failed naming it, without retrying', async () => {
      await expect(deployer.rolloutStatus({ namespace: NS, deployment: 'ghost' })).rejects.toMatchObject({
        code: 'deploy_failed',
        transient: false,
        message: expect.stringContaining('deployment prod/ghost not found'),
      });
      expect(onRetry).not.toHaveBeenCalled();
    });
  });

  describe('when the API answers 500 once', () => {
    it('retries and succeeds', async () => {
      k8s.faults.add({
        method: 'GET',
        path: '/deployments/web-app',
        status: 500,
        body: { kind: 'Status', code: 500 },
        times: 1,
      });
      expect(await deployer.rolloutStatus(web)).toEqual({ state: 'done' });
      expect(onRetry).toHaveBeenCalledTimes(1);
    });
  });

  describe('when the API is down', () => {
    it('fails with a transient deploy_unavailable after bounded retries', async () => {
      k8s.faults.add({ path: '/apis/', drop: true });
      await expect(deployer.discover(SECRET)).rejects.toMatchObject({
        code: 'deploy_unavailable',
        transient: true,
      });
    });

    it('treats a refused connection the same way', async () => {
      await k8s.close();
      await expect(deployer.rolloutStatus(web)).rejects.toMatchObject({
        code: 'deploy_unavailable',
        transient: true,
      });
    });
  });

  describe('whatever fails', () => {
    it('never puts secret values in the error', async () => {
      k8s.faults.add({ path: '/secrets/', status: 500, body: { kind: 'Status', message: 'old-value' } });
      k8s.addExternalSecret(NS, SECRET, {
        target: SECRET,
        data: [],
        refreshTime: new Date(Date.now() + 5_000),
      });
      const err: unknown = await deployer.synced(NS, SECRET, new Date()).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'deploy_unavailable' });
      expect(JSON.stringify(err) + String(err)).not.toContain('old-value');
    });
  });
});
