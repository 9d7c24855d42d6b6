import type { CredentialSpec } from '../domain/credential';
import type { Plan } from '../domain/plan';
import type { AgeAssessment } from '../domain/policy';
import type { EmergencyScope } from '../domain/incident';
import type { Identity, Run } from '../domain/run';
import type { DueStatus } from './due';

export type { DueStatus } from './due';

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
   * key awaits deletion (or was kept or reactivated), and the age.
   */
  status(name: string): Promise<{ active?: Run; last?: Run; oldKey?: Run; age: AgeAssessment }>;
  /** Every catalog credential's age and whether a run holds it (`/rotate due`), bounded in memory. */
  due(): Promise<DueStatus[]>;
  getRun(id: string): Promise<Run | undefined>;
  /** Most recent first. */
  history(name: string, limit?: number): Promise<Run[]>;
}
