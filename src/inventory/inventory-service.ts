import type { CredentialSpec } from '../domain/credential';
import type { InventoryReport, InventoryRow } from '../domain/inventory';
import type { AgeAssessment } from '../domain/policy';
import type { Clock, SecretReferences, SecretStore } from '../domain/ports';
import type { Run } from '../domain/run';
import type { RunStore } from '../queue/run-store';
import { mapLimit } from '../procedures/bounded';
import { buildInventory } from './build';
import { ageOfRow, byUrgency } from './row';

/** One line of `/rotate due`: a credential's age and whether a run holds it. */
export interface DueStatus {
  name: string;
  age: AgeAssessment;
  active: boolean;
}

/** What the App Home dashboard shows: the inventory, the runs in progress, recent outcomes. */
export interface Dashboard {
  report: InventoryReport;
  /** Runs holding a credential now. */
  open: Run[];
  /** The most urgent rows first, each with its last finished run (if any). */
  rows: Array<{ row: InventoryRow; last?: Run }>;
  /** How many rows there are beyond `rows`. */
  more: number;
}

export interface InventoryServiceDeps {
  catalog: Map<string, CredentialSpec>;
  store: Pick<SecretStore, 'read' | 'list'>;
  cluster?: SecretReferences;
  runs: Pick<RunStore, 'lockHolders' | 'get' | 'history'>;
  clock: Clock;
  dueSoonDays: number;
  /** INVENTORY_CONCURRENCY (default DEFAULT_INVENTORY_CONCURRENCY: 64). */
  concurrency?: number;
}

/** Rows the dashboard details (Slack's Home tab takes 100 blocks). */
export const DASHBOARD_ROWS = 40;

/** The inventory as the Slack surfaces ask for it: the due list, the Home tab. */
export class InventoryService {
  constructor(private readonly deps: InventoryServiceDeps) {}

  /** Catalog, Vault and (when a cluster is wired) Kubernetes drift. */
  report(opts: { listVault?: boolean; cluster?: boolean } = {}): Promise<InventoryReport> {
    const { catalog, store, cluster, clock, dueSoonDays, concurrency } = this.deps;
    return buildInventory(
      { catalog: catalog.values(), store, ...(cluster && opts.cluster !== false ? { cluster } : {}) },
      {
        now: clock.now(),
        dueSoonDays,
        ...(concurrency ? { concurrency } : {}),
        ...(opts.listVault === false ? { listVault: false } : {}),
      },
    );
  }

  /** Every catalog credential's age and whether a run holds it: no LIST, no cluster. */
  async due(): Promise<DueStatus[]> {
    const [report, holders] = await Promise.all([
      this.report({ listVault: false, cluster: false }),
      this.deps.runs.lockHolders([...this.deps.catalog.keys()]),
    ]);
    const active = new Set([...this.deps.catalog.keys()].filter((_, i) => holders[i] !== undefined));
    return report.rows.map((row) => ({ name: row.name, age: ageOfRow(row), active: active.has(row.name) }));
  }

  /** The Home tab's data: the full inventory, open runs, the most urgent rows with their last run. */
  async dashboard(): Promise<Dashboard> {
    const names = [...this.deps.catalog.keys()];
    const [report, holders] = await Promise.all([this.report(), this.deps.runs.lockHolders(names)]);
    const holding = holders.filter((h): h is string => h !== undefined);
    const open = (await mapLimit(holding, 16, (id) => this.deps.runs.get(id))).filter(
      (r): r is Run => r !== undefined,
    );
    const urgent = byUrgency(report.rows).slice(0, DASHBOARD_ROWS);
    const rows = await mapLimit(urgent, 16, async (row) => {
      if (!row.inCatalog) return { row };
      const last = (await this.deps.runs.history(row.name, 5)).find((r) => r.status === 'finished');
      return last ? { row, last } : { row };
    });
    return { report, open, rows, more: report.rows.length - rows.length };
  }
}
