import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { channelDigests } from '../../../src/domain/digest';
import { kubeConfigFrom } from '../../../src/adapters/deployers/kubeconfig';
import { KubernetesDeployer } from '../../../src/adapters/deployers/kubernetes-deployer';
import { VaultSecretStore } from '../../../src/adapters/store/vault-store';
import { buildInventory } from '../../../src/inventory/build';
import { createKubernetesDouble, type KubernetesDouble } from '../../../sandbox/kubernetes';
import { createVaultDouble, type VaultDouble } from '../../../sandbox/vault/vault-double';
import { K8S_SECRET, specFixture, STORE_PATH } from '../../helpers/fixtures';

const TOKEN = 'hvs.drift-test';
const NOW = new Date('2026-11-26T10:00:00Z');

describe('drift between the catalog, Vault and the cluster (real clients against the doubles)', () => {
  let vault: VaultDouble;
  let k8s: KubernetesDouble;
  let dir: string;
  let deployer: KubernetesDeployer;
  let store: VaultSecretStore;
  const payment = specFixture();
  const crm = specFixture({
    name: 'crm-integration',
    store: 'api-credentials/crm-integration',
    kubernetesSecret: 'crm-integration',
    channel: 'C_SALES',
    consumers: [
      { name: 'crm-sync', reload: 'startup', kubernetes: { namespace: 'sales', deployment: 'crm-sync' } },
    ],
  });

  beforeAll(async () => {
    vault = await createVaultDouble({ token: TOKEN });
    vault.seed(STORE_PATH, { api_key: 'v1', rotated_at: '2026-11-01T00:00:00Z' });
    vault.seed('api-credentials/legacy-token', { api_key: 'v2' }); // nobody's: not in the catalog
    // crm-integration is in the catalog but was never stored.
    k8s = await createKubernetesDouble({ token: 'sa-token', resolveRemoteRef: async () => undefined });
    const ref = (via: 'env' | 'envFrom' | 'volume', secret = K8S_SECRET) => [{ secret, key: 'api_key', via }];
    // Declared and found (secretKeyRef).
    k8s.addDeployment({ namespace: 'payments', name: 'web-app', secretRefs: ref('env') });
    // Not declared: one through secretKeyRef, one through envFrom, as the runbook's two queries find.
    k8s.addDeployment({ namespace: 'payments', name: 'report-worker', secretRefs: ref('env') });
    k8s.addDeployment({ namespace: 'payments', name: 'cron-reconciler', secretRefs: ref('envFrom') });
    // Same Secret name in another namespace: another credential, not drift.
    k8s.addDeployment({ namespace: 'staging', name: 'web-app', secretRefs: ref('env') });
    // batch-processor is declared but absent; crm-sync exists but no longer uses its secret.
    k8s.addDeployment({ namespace: 'sales', name: 'crm-sync', secretRefs: ref('env', 'something-else') });
    dir = await mkdtemp(join(tmpdir(), 'drift-'));
    await writeFile(join(dir, 'config'), k8s.kubeconfig());
    deployer = new KubernetesDeployer(kubeConfigFrom({ kubeconfigPath: join(dir, 'config') }), {
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
    });
    store = new VaultSecretStore({ endpoint: vault.url, token: TOKEN, retry: { attempts: 1 } });
  });
  afterAll(async () => {
    await Promise.all([vault.close(), k8s.close()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('reports each case once, and nothing for what agrees', async () => {
    const report = await buildInventory({ catalog: [payment, crm], store, cluster: deployer }, { now: NOW });
    expect(report.problems).toBeUndefined();
    expect(report.drift).toEqual(
      expect.arrayContaining([
        { kind: 'vault-only', path: 'api-credentials/legacy-token' },
        { kind: 'catalog-only', name: 'crm-integration', path: 'api-credentials/crm-integration' },
        {
          kind: 'missing-consumer',
          name: 'payment-gateway-api',
          consumer: 'batch-processor',
          where: 'payments/batch-processor',
        },
        { kind: 'missing-consumer', name: 'crm-integration', consumer: 'crm-sync', where: 'sales/crm-sync' },
        { kind: 'undeclared-consumer', name: 'payment-gateway-api', where: 'payments/cron-reconciler' },
        { kind: 'undeclared-consumer', name: 'payment-gateway-api', where: 'payments/report-worker' },
      ]),
    );
    expect(report.drift).toHaveLength(6);
    expect(report.rows.find((r) => r.name === 'crm-integration')).toMatchObject({
      status: 'never-rotated',
      inVault: false,
    });
    expect(report.rows.find((r) => r.name === 'legacy-token')).toMatchObject({
      inCatalog: false,
      inVault: true,
      currentVersion: 1,
    });
  });

  it('the digests group the findings by owning channel, Vault-only ones to the security channel', async () => {
    const report = await buildInventory({ catalog: [payment, crm], store, cluster: deployer }, { now: NOW });
    const digests = channelDigests(report, new Map(), NOW, {
      securityChannel: 'C_SECURITY',
      dueSoonDays: 14,
    });
    const grouped = new Map(digests.filter((d) => d.drift.length).map((d) => [d.channel, d.drift]));
    expect([...grouped.keys()].sort()).toEqual(['C_PAYMENTS', 'C_SALES', 'C_SECURITY']);
    expect(
      grouped
        .get('C_PAYMENTS')!
        .map((f) => f.kind)
        .sort(),
    ).toEqual(['missing-consumer', 'undeclared-consumer', 'undeclared-consumer']);
    expect(grouped.get('C_SECURITY')).toEqual([{ kind: 'vault-only', path: 'api-credentials/legacy-token' }]);
  });

  it('without a cluster it still reports Vault and catalog drift; a cluster that fails is a problem, not a failure', async () => {
    const noCluster = await buildInventory({ catalog: [payment, crm], store }, { now: NOW });
    expect(noCluster.drift.map((f) => f.kind).sort()).toEqual(['catalog-only', 'vault-only']);
    k8s.faults.add({ path: '/apis/apps/v1/deployments', status: 500, body: { kind: 'Status', code: 500 } });
    const broken = await buildInventory({ catalog: [payment, crm], store, cluster: deployer }, { now: NOW });
    k8s.faults.clear();
    expect(broken.rows).toHaveLength(3);
    expect(broken.problems).toEqual([
      expect.stringContaining("the cluster's deployments could not be listed"),
    ]);
  });
});
