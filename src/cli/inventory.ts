/**
 * `npm run inventory [-- --json]`: the runbook's credential inventory (Prerequisites) from Vault and
 * the catalog, with each credential's age against the policy table and the drift between catalog,
 * Vault and (with KUBECONFIG) the cluster. Needs VAULT_ADDR, VAULT_TOKEN and CATALOG_PATH; no Slack,
 * no Redis. Exit codes: 0 printed, 2 bad input or configuration.
 */
import { kubeConfigFrom } from '../adapters/deployers/kubeconfig';
import { KubernetesDeployer } from '../adapters/deployers/kubernetes-deployer';
import { VaultSecretStore } from '../adapters/store/vault-store';
import { loadInventoryConfig } from '../config';
import { isRotatorError } from '../domain/errors';
import { buildInventory } from '../inventory/build';
import { describeFinding } from '../inventory/drift';
import { inventoryTsv } from '../inventory/tsv';

const USAGE = 'usage: npm run inventory [-- --json]';

export interface InventoryCliIo {
  out(text: string): void;
  err(text: string): void;
  now?: Date;
}

/** The CLI without process globals: returns the exit code. */
export async function inventoryCli(
  argv: string[],
  env: Record<string, string | undefined>,
  io: InventoryCliIo,
): Promise<number> {
  if (argv.some((a) => a !== '--json')) {
    io.err(`${USAGE}\n`);
    return 2;
  }
  let config: ReturnType<typeof loadInventoryConfig>;
  try {
    config = loadInventoryConfig(env);
  } catch (e) {
    io.err(`${isRotatorError(e) ? e.message : (e as Error).message}\n`);
    return 2;
  }
  const { env: settings, catalog } = config;
  const store = new VaultSecretStore({
    endpoint: settings.VAULT_ADDR,
    token: settings.VAULT_TOKEN,
    mount: settings.VAULT_KV_MOUNT,
  });
  const cluster = settings.KUBECONFIG
    ? new KubernetesDeployer(kubeConfigFrom({ kubeconfigPath: settings.KUBECONFIG }))
    : undefined;
  const report = await buildInventory(
    { catalog: catalog.credentials.values(), store, ...(cluster ? { cluster } : {}) },
    {
      now: io.now ?? new Date(),
      dueSoonDays: settings.DUE_SOON_DAYS,
      concurrency: settings.INVENTORY_CONCURRENCY,
    },
  );
  if (argv.includes('--json')) {
    io.out(`${JSON.stringify(report, null, 2)}\n`);
    return 0;
  }
  io.out(inventoryTsv(report));
  // stdout stays the TSV; what else there is to know goes to stderr.
  for (const f of report.drift) io.err(`drift: ${describeFinding(f)}\n`);
  for (const p of report.problems ?? []) io.err(`problem: ${p}\n`);
  if (!cluster) io.err('no KUBECONFIG: consumer drift not checked\n');
  return 0;
}

if (require.main === module) {
  inventoryCli(process.argv.slice(2), process.env, {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`inventory: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
