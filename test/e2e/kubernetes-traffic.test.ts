import { DEFAULT_MAX_SOCKETS } from '../../src/adapters/deployers/kubeconfig';
import type { KubeRequest } from '../../sandbox/kubernetes';
import { copyCredential, type CatalogCredential } from '../../sandbox/world';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

const NAME = 'payment-gateway-api';
const NS = 'payments';
const isWatch = (r: KubeRequest) => /[?&]watch=(true|1)\b/.test(r.path);
const pathOf = (r: KubeRequest) => r.path.split('?')[0]!;
const isDeploymentList = (r: KubeRequest) =>
  r.method === 'GET' && !isWatch(r) && /\/deployments(\?|$)/.test(r.path);

/** Copies of crm-integration in its namespace (sales), each with its own Secret and deployment. */
function crmCopies(names: string[]) {
  return (c: { credentials: CatalogCredential[] }) => {
    const template = c.credentials.find((x) => x.name === 'crm-integration')!;
    for (const name of names)
      c.credentials.push(
        copyCredential(template, name, () => ({ namespace: SALES, deployment: `${name}-sync` })),
      );
  };
}
const SALES = 'sales';

async function rotate(h: Harness, credential = NAME) {
  const before = h.world.kubernetes.requests().length;
  const started = await h.services.service.start({
    credential,
    requester: { kind: 'cli', id: 'alice', name: 'alice' },
  });
  const run = await h.waitForRun(started.id, undefined, 30_000);
  return { run, requests: h.world.kubernetes.requests().slice(before) };
}

describe("a rotation's Kubernetes traffic", () => {
  let h: Harness | undefined;
  afterEach(async () => {
    if (h) expect(await closeAndFindLeaks(h)).toEqual([]);
    h = undefined;
  });

  describe('when the cluster syncs and rolls out normally', () => {
    it('patches each object once, learns of the rollouts from a watch, and reuses its connections', async () => {
      // A poll a minute apart: the run can finish within the test's time only if the sync's short
      // backoff and the rollout watch, not the poll, tell it when to go on.
      h = await startHarness({ settings: { pollIntervalMs: 60_000, quietWindowMs: 0 }, rolloutDelayMs: 300 });
      const { run, requests } = await rotate(h);

      expect(run.outcome).toBe('succeeded');
      expect(h.world.kubernetes.restarts(NS, 'web-app')).toBe(1);
      expect(h.world.kubernetes.restarts(NS, 'mobile-backend')).toBe(1);
      const patches = requests.filter((r) => r.method === 'PATCH').map(pathOf);
      expect(patches.sort()).toEqual([
        `/apis/apps/v1/namespaces/${NS}/deployments/mobile-backend`,
        `/apis/apps/v1/namespaces/${NS}/deployments/web-app`,
        `/apis/external-secrets.io/v1/namespaces/${NS}/externalsecrets/payment-gateway-secret`,
      ]);
      // Discovery: one list, of the consumers' namespace, never the whole cluster.
      const lists = requests.filter((r) => !isWatch(r) && /\/deployments(\?|$)/.test(r.path));
      expect(lists.map(pathOf)).toEqual([`/apis/apps/v1/namespaces/${NS}/deployments`]);
      expect(requests.filter(isWatch).length).toBeGreaterThanOrEqual(1);
      // One keep-alive pool for calls and one for watches, instead of a connection per request.
      const callConnections = new Set(requests.filter((r) => !isWatch(r)).map((r) => r.connection));
      expect(callConnections.size).toBeLessThanOrEqual(DEFAULT_MAX_SOCKETS);
      expect(h.world.kubernetes.connections()).toBeLessThanOrEqual(2 * DEFAULT_MAX_SOCKETS);
      expect(requests.length).toBeGreaterThan(h.world.kubernetes.connections());
    });

    it('discovers from the rollout watch on the next runs, a deployment added meanwhile included', async () => {
      h = await startHarness({
        settings: { pollIntervalMs: 60_000, quietWindowMs: 0 },
        rolloutDelayMs: 300,
        editCatalog: crmCopies(['crm-a', 'crm-b']),
      });
      const first = await rotate(h, 'crm-integration');
      expect(first.run.outcome).toBe('succeeded');
      expect(first.requests.filter(isDeploymentList).map(pathOf)).toEqual([
        `/apis/apps/v1/namespaces/${SALES}/deployments`,
      ]);

      // The first run's list and its rollout watch hold the namespace: the next run does not list.
      const second = await rotate(h, 'crm-a');
      expect(second.run.outcome).toBe('succeeded');
      expect(h.world.kubernetes.restarts(SALES, 'crm-a-sync')).toBe(1);
      expect(second.requests.filter(isDeploymentList)).toEqual([]);

      // A deployment made since reaches the worker by the watch, and discovery sees it.
      h.world.kubernetes.addDeployment({
        namespace: SALES,
        name: 'reporting',
        secretRefs: [{ secret: 'crm-b', via: 'env' }],
      });
      const third = await rotate(h, 'crm-b');
      expect(third.run.failure?.code).toBe('old_key_in_use');
      expect(third.run.failure?.message).toContain(`${SALES}/reporting`);
      expect(h.world.kubernetes.restarts(SALES, 'crm-b-sync')).toBe(0);
      expect(third.requests.filter(isDeploymentList)).toEqual([]);
    });

    it('opens a few connections to Vault and the provider for several rotations, not one per call', async () => {
      h = await startHarness({
        settings: { pollIntervalMs: 60_000, quietWindowMs: 0 },
        rolloutDelayMs: 300,
        editCatalog: crmCopies(['crm-a', 'crm-b']),
      });
      const { vault, provider } = h.world;
      // The first opens the connections (and the start's parallel reads of every credential have
      // opened theirs); the next ones reuse them.
      expect((await rotate(h, 'crm-integration')).run.outcome).toBe('succeeded');
      const [vaultBefore, providerBefore] = [vault.connections(), provider.connections()];
      const [vaultCalls, providerCalls] = [vault.requestCount(), provider.requestCount()];
      for (const credential of ['crm-a', 'crm-b'])
        expect((await rotate(h, credential)).run.outcome).toBe('succeeded');

      // Each rotation makes several calls to each, one after another, on connections kept open.
      expect(vault.requestCount() - vaultCalls).toBeGreaterThan(7);
      expect(provider.requestCount() - providerCalls).toBeGreaterThan(7);
      expect(vault.connections() - vaultBefore).toBeLessThanOrEqual(1);
      expect(provider.connections() - providerBefore).toBeLessThanOrEqual(1);
    });
  });

  describe('when the service account may not watch deployments (403 on every watch)', () => {
    it('finishes the rotation by polling, with a bounded number of watch attempts', async () => {
      h = await startHarness({ settings: { pollIntervalMs: 300, quietWindowMs: 0 }, rolloutDelayMs: 300 });
      h.world.kubernetes.faults.add({
        path: 'watch=true',
        status: 403,
        body: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'deployments.apps is forbidden: cannot watch resource "deployments"',
          reason: 'Forbidden',
          code: 403,
        },
      });
      const { run, requests } = await rotate(h);

      expect(run.outcome).toBe('succeeded');
      expect(h.world.kubernetes.restarts(NS, 'web-app')).toBe(1);
      expect(h.logs.text()).toContain('rollout watch broke');
      // One refused watch, then the namespace is left to the poll: not a watch per look.
      const watches = h.world.kubernetes.faults.applied().filter((r) => /[?&]watch=true\b/.test(r.path));
      expect(watches).toHaveLength(1);
      expect(requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);
    });
  });

  describe('when the rollout watch answers 410 Expired', () => {
    it('falls back to reading the deployments and still finishes the rotation', async () => {
      h = await startHarness({ settings: { pollIntervalMs: 300, quietWindowMs: 0 }, rolloutDelayMs: 300 });
      const expired = {
        type: 'ERROR',
        object: {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Failure',
          message: 'too old resource version: 1 (5)',
          reason: 'Expired',
          code: 410,
        },
      };
      h.world.kubernetes.faults.add({
        path: 'watch=true',
        status: 200,
        body: `${JSON.stringify(expired)}\n`,
        headers: { 'content-type': 'application/json' },
      });
      const { run, requests } = await rotate(h);

      expect(run.outcome).toBe('succeeded');
      expect(h.logs.text()).toContain('rollout watch broke');
      // The fallback poll reads the deployments the watch could not report on (the restart itself
      // reads nothing: discovery's listing is its precondition).
      const reads = requests.filter(
        (r) => r.method === 'GET' && pathOf(r) === `/apis/apps/v1/namespaces/${NS}/deployments/web-app`,
      );
      expect(reads.length).toBeGreaterThanOrEqual(1);
      expect(requests.filter((r) => r.method === 'PATCH')).toHaveLength(3);
    });
  });
});
