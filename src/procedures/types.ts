import type { CredentialSpec } from '../domain/credential';
import type { Plan } from '../domain/plan';
import type { AgeAssessment } from '../domain/policy';
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
  /** The run in progress for this credential, the last finished run, and the age. */
  status(name: string): Promise<{ active?: Run; last?: Run; age: AgeAssessment }>;
  /** Every catalog credential's age and whether a run holds it (`/rotate due`), bounded in memory. */
  due(): Promise<DueStatus[]>;
  getRun(id: string): Promise<Run | undefined>;
  /** Most recent first. */
  history(name: string, limit?: number): Promise<Run[]>;
}
