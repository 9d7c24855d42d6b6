/**
 * The runbook's credential inventory ("Prerequisites"): every entry under the KV prefix merged with
 * the catalog, each one's age against the policy table, and the drift between the catalog, Vault
 * and the cluster.
 */
import type { CredentialSpec } from '../domain/credential';
import type { DriftFinding, InventoryReport } from '../domain/inventory';
import type { DiscoveredConsumer, SecretReferences, SecretStore } from '../domain/ports';
import { mapLimit } from '../procedures/bounded';
import { clusterDrift, storeDrift } from './drift';
import { inventoryRow, type VaultLook } from './row';

export const INVENTORY_PREFIX = 'api-credentials/';
/**
 * Vault reads in flight by default: one Vault node serves thousands of reads a second, and the
 * inventory is read-mostly work a person waits for. `npm run bench` (bench/inventory.ts) measures
 * the ratio to the runbook's one-process-per-read loop on 10,000 credentials at this default and at
 * 16 (`ratioAt16`), in the same run; the numbers are its output, not this comment's.
 */
export const DEFAULT_INVENTORY_CONCURRENCY = 64;

export interface InventoryDeps {
  catalog: Iterable<CredentialSpec>;
  store: Pick<SecretStore, 'read' | 'list'>;
  /** Where deployments are found; without it the report has no Kubernetes drift. */
  cluster?: SecretReferences;
}

export interface InventoryOptions {
  now: Date;
  /** The KV folder the runbook lists (default api-credentials/). */
  prefix?: string;
  /** Due-soon window in days (DUE_SOON_DAYS, default 14). */
  dueSoonDays?: number;
  /** Vault reads in flight at once (INVENTORY_CONCURRENCY, default DEFAULT_INVENTORY_CONCURRENCY: 64). */
  concurrency?: number;
  /** false: only the catalog's entries, no LIST and no Vault-only rows (the due list). */
  listVault?: boolean;
}

const messageOf = (e: unknown) => (e instanceof Error ? e.message : 'unknown error');

/** LIST of the prefix: entry paths (folders skipped), or why it failed. */
async function listed(
  store: InventoryDeps['store'],
  prefix: string,
): Promise<{ paths: Set<string> } | { problem: string }> {
  try {
    const names = await store.list(prefix);
    return { paths: new Set(names.filter((n) => !n.endsWith('/')).map((n) => `${prefix}${n}`)) };
  } catch (e) {
    return {
      problem: `Vault LIST secret/${prefix} failed (${messageOf(e)}): entries not in the catalog are not shown`,
    };
  }
}

/** Per Secret, its deployments; or why the cluster could not tell. */
async function references(
  deps: InventoryDeps,
  specs: CredentialSpec[],
): Promise<{ bySecret: Map<string, DiscoveredConsumer[]> } | { problem: string } | undefined> {
  if (!deps.cluster) return undefined;
  const secrets = [...new Set(specs.flatMap((s) => (s.kubernetesSecret ? [s.kubernetesSecret] : [])))];
  try {
    return { bySecret: await deps.cluster.references(secrets) };
  } catch (e) {
    return {
      problem: `the cluster's deployments could not be listed (${messageOf(e)}): no consumer drift shown`,
    };
  }
}

/**
 * Builds the inventory: one LIST of the prefix, then one read of each entry's current version with at
 * most `concurrency` in flight (a read that fails marks that row `unknown` with the reason, nothing
 * else), and, with a cluster, one pass over its deployments for the consumer drift. Never throws for
 * a failed look-up: what could not be seen is in the rows' reasons and the report's `problems`.
 */
export async function buildInventory(deps: InventoryDeps, opts: InventoryOptions): Promise<InventoryReport> {
  const prefix = opts.prefix ?? INVENTORY_PREFIX;
  const warnDays = opts.dueSoonDays ?? 14;
  const specs = [...deps.catalog];
  const byPath = new Map(specs.map((s) => [s.store, s]));
  const problems: string[] = [];

  const [list, cluster] = await Promise.all([
    opts.listVault === false ? undefined : listed(deps.store, prefix),
    references(deps, specs),
  ]);
  const inList = list && 'paths' in list ? list.paths : undefined;
  if (list && 'problem' in list) problems.push(list.problem);
  if (cluster && 'problem' in cluster) problems.push(cluster.problem);

  const vaultOnly = [...(inList ?? [])].filter((p) => !byPath.has(p)).sort();
  const paths = [...specs.map((s) => s.store), ...vaultOnly];
  const rows = await mapLimit(paths, opts.concurrency ?? DEFAULT_INVENTORY_CONCURRENCY, async (path) => {
    const isListed = inList?.has(path) ?? false;
    let look: VaultLook;
    try {
      const stored = await deps.store.read(path);
      look = stored ? { kind: 'found', stored } : { kind: 'absent', listed: isListed };
    } catch (e) {
      look = { kind: 'failed', reason: `Vault read failed: ${messageOf(e)}`, listed: isListed };
    }
    return inventoryRow(byPath.get(path), path, look, opts.now, warnDays);
  });

  const drift: DriftFinding[] = storeDrift(rows);
  if (cluster && 'bySecret' in cluster) {
    for (const spec of specs) {
      if (!spec.kubernetesSecret) continue;
      drift.push(...clusterDrift(spec, cluster.bySecret.get(spec.kubernetesSecret) ?? []));
    }
  }
  return {
    generatedAt: opts.now.toISOString(),
    rows,
    drift,
    ...(problems.length > 0 ? { problems } : {}),
  };
}
