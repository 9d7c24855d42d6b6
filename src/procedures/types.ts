import type { CredentialSpec } from '../domain/credential';
import type { Plan } from '../domain/plan';
import type { AgeAssessment } from '../domain/policy';
import type { EmergencyScope } from '../domain/incident';
import type { Identity, Run } from '../domain/run';
import type { DriftFinding, InventoryReport } from '../domain/inventory';
import type { Dashboard, DueStatus } from '../inventory/inventory-service';
import type { RunHistoryEntry } from './history';

export type { Dashboard, DueStatus } from '../inventory/inventory-service';
export type { RunHistoryEntry } from './history';

/**
 * What the Slack commands and the CLI may ask of the rotation engine. They plan and enqueue;
 * only jobs execute (DESIGN: commands never call an issuer or the store's write path).
 */
export interface RotationRequests {
  /** Catalog names, sorted. */
  credentialNames(): string[];
  /** Throws RotatorError `invalid_name` / `unknown_credential`. */
  spec(name: string): CredentialSpec;
  /** Reads store, cluster and policy; no writes. */
  plan(name: string): Promise<Plan>;
  /**
   * Creates the run, takes the per-credential lock and enqueues it.
   * Throws `locked` (context.runId = holder) or `queue_unavailable` (and then nothing was started).
   */
  start(input: {
    credential: string;
    requester: Identity;
    approver?: Identity;
    slack?: Run['slack'];
  }): Promise<Run>;
  /**
   * Resumes or rolls back a half-rotated credential from what Vault holds (reconciler's buttons).
   * Throws `store_conflict` when Vault moved on since `expectedVersion`, `locked`, `queue_unavailable`.
   */
  recover(input: {
    credential: string;
    mode: 'resume' | 'rollback';
    expectedVersion: number;
    requester: Identity;
    slack?: Run['slack'];
  }): Promise<Run>;
  /**
   * What an emergency would revoke and break, for the named credentials or every credential of
   * `issuer` (read-only). Unknown names are listed in `unknown`, never silently dropped.
   */
  emergencyScope(input: { credentials?: string[]; issuer?: string }): Promise<EmergencyScope>;
  /**
   * Starts one emergency run per credential in one incident, at once: no approval gate, a
   * scheduled run holding a credential is taken over. A credential already in an emergency keeps
   * its run (returned in `alreadyRunning`).
   */
  startEmergency(input: {
    credentials: string[];
    incident: { ref: string; channel: string };
    requester: Identity;
  }): Promise<{ started: Run[]; alreadyRunning: Array<{ credential: string; runId: string }> }>;
  /** Every run of an incident, oldest first (for `/rotate incident` and the incident message). */
  incidentRuns(ref: string): Promise<Run[]>;
  /**
   * The run in progress for this credential, the last finished run, the run whose deactivated old
   * key awaits deletion (or was kept or reactivated), the age, and its drift (absent from Vault,
   * declared consumers not found, undeclared deployments using its secret).
   */
  status(
    name: string,
  ): Promise<{ active?: Run; last?: Run; oldKey?: Run; age: AgeAssessment; drift?: DriftFinding[] }>;
  /** Every catalog credential's age and whether a run holds it (`/rotate due`), bounded in memory. */
  due(): Promise<DueStatus[]>;
  /** The inventory: Vault under the prefix merged with the catalog, with drift. */
  inventory(): Promise<InventoryReport>;
  /** The App Home dashboard: the inventory, open runs, the most urgent rows with their last run. */
  dashboard(): Promise<Dashboard>;
  getRun(id: string): Promise<Run | undefined>;
  /** Run records, most recent first. */
  history(name: string, limit?: number): Promise<Run[]>;
  /** `/rotate history`: recent runs as the audit trail tells them, most recent first. */
  pastRuns(name: string, limit?: number): Promise<RunHistoryEntry[]>;
}
