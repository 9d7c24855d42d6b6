/**
 * The inventory the runbook's "Prerequisites" ask for: every credential under the KV prefix merged
 * with the catalog, its age against the policy table, and the drift between the catalog, Vault and
 * the cluster. Shared by `npm run inventory`, the weekly digests, `/rotate due|status` and App Home.
 * No field holds a credential value.
 */
import type { CredentialType, Risk } from './credential';

export type InventoryStatus = 'ok' | 'due-soon' | 'overdue' | 'never-rotated' | 'unknown';

export interface InventoryRow {
  /** Catalog name, or the Vault entry name for a credential the catalog does not know. */
  name: string;
  /** Path below the KV mount, e.g. api-credentials/payment-gateway-api. */
  path: string;
  inCatalog: boolean;
  inVault: boolean;
  type?: CredentialType;
  risk?: Risk;
  /** Owning Slack channel from the catalog; digests for rows without one go to SECURITY_CHANNEL. */
  channel?: string;
  contact?: string;
  /** Vault's created_time of the current version. */
  createdTime?: string;
  currentVersion?: number;
  /** Last successful rotation (rotated_at), and who did it. */
  rotatedAt?: string;
  rotatedBy?: string;
  /** Whole days since rotated_at, falling back to created_time. */
  ageDays?: number;
  /** Which timestamp ageDays counts from. */
  measuredFrom?: 'rotated_at' | 'created_time';
  /** The policy limit from the runbook's schedule table. */
  maxAgeDays?: number;
  /** When the credential falls due (ISO-8601). */
  dueAt?: string;
  /** Whole days until dueAt; negative once overdue. */
  daysLeft?: number;
  status: InventoryStatus;
  /** Why the status is `unknown` (e.g. "vault read failed: HTTP 500"); never a value. */
  reason?: string;
}

export type DriftFinding =
  /** In Vault under the prefix, not in the catalog: nobody rotates it. */
  | { kind: 'vault-only'; path: string }
  /** In the catalog, absent from Vault: its next rotation fails at store. */
  | { kind: 'catalog-only'; name: string; path: string }
  /** Declared consumer the cluster does not show referencing the credential's secret. */
  | { kind: 'missing-consumer'; name: string; consumer: string; where: string }
  /** Deployment referencing the secret (secretKeyRef or envFrom) that the catalog does not declare. */
  | { kind: 'undeclared-consumer'; name: string; where: string };

export interface InventoryReport {
  generatedAt: string;
  rows: InventoryRow[];
  drift: DriftFinding[];
  /**
   * What could not be looked at as a whole (Vault's LIST, the cluster's deployments): the rows are
   * still there, but Vault-only or cluster drift may be missing. Never a value.
   */
  problems?: string[];
}
