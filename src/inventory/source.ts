/**
 * A minimal inventory from what exists today: the catalog, one store read per credential (bounded
 * concurrency) and the policy table. No Vault listing and no cluster look-ups: the full inventory
 * (`buildInventory`) replaces this behind the same `loadInventory()` signature.
 */
import type { CredentialSpec } from '../domain/credential';
import type { DriftFinding, InventoryReport, InventoryRow, InventoryStatus } from '../domain/inventory';
import { assessAge } from '../domain/policy';
import type { Clock, SecretStore } from '../domain/ports';
import { mapLimit } from '../procedures/bounded';
import { DUE_READ_CONCURRENCY } from '../procedures/due';

export interface CatalogInventoryDeps {
  catalog: Map<string, CredentialSpec>;
  store: Pick<SecretStore, 'read'>;
  clock: Clock;
  dueSoonDays: number;
  concurrency?: number;
}

const STATUS = { ok: 'ok', due_soon: 'due-soon', overdue: 'overdue', unknown: 'unknown' } as const;

async function rowOf(spec: CredentialSpec, deps: CatalogInventoryDeps, now: Date): Promise<InventoryRow> {
  const base = {
    name: spec.name,
    path: spec.store,
    inCatalog: true,
    type: spec.type,
    risk: spec.risk,
    contact: spec.contact,
    ...(spec.channel ? { channel: spec.channel } : {}),
  };
  let stored;
  try {
    stored = await deps.store.read(spec.store);
  } catch (e) {
    // One failing read marks this credential unknown, not the whole inventory.
    const status = (e as { response?: { statusCode?: number } }).response?.statusCode;
    return {
      ...base,
      inVault: false,
      status: 'unknown',
      reason: `vault read failed${status ? `: HTTP ${status}` : ''}`,
    };
  }
  if (!stored) return { ...base, inVault: false, status: 'never-rotated' };
  const age = assessAge({
    type: spec.type,
    risk: spec.risk,
    rotatedAt: stored.rotatedAt,
    createdTime: stored.createdTime,
    now,
    warnDays: deps.dueSoonDays,
  });
  const status: InventoryStatus = STATUS[age.status];
  return {
    ...base,
    inVault: true,
    createdTime: stored.createdTime,
    currentVersion: stored.version,
    ...(stored.rotatedAt ? { rotatedAt: stored.rotatedAt } : {}),
    ...(stored.rotatedBy ? { rotatedBy: stored.rotatedBy } : {}),
    ...(age.ageDays !== undefined ? { ageDays: age.ageDays } : {}),
    maxAgeDays: age.maxAgeDays,
    ...(age.dueAt
      ? { dueAt: age.dueAt, daysLeft: Math.floor((Date.parse(age.dueAt) - now.getTime()) / 86_400_000) }
      : {}),
    status,
  };
}

/** `loadInventory()` over the catalog: rows for every catalog entry, catalog-only drift. */
export function catalogInventory(deps: CatalogInventoryDeps): () => Promise<InventoryReport> {
  return async () => {
    const now = deps.clock.now();
    const specs = [...deps.catalog.values()];
    const rows = await mapLimit(specs, deps.concurrency ?? DUE_READ_CONCURRENCY, (spec) =>
      rowOf(spec, deps, now),
    );
    const drift: DriftFinding[] = rows
      .filter((r) => !r.inVault && r.status !== 'unknown')
      .map((r) => ({ kind: 'catalog-only', name: r.name, path: r.path }));
    return { generatedAt: now.toISOString(), rows, drift };
  };
}
