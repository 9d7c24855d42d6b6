import type { TroubleshootingKey } from './troubleshooting';

/**
 * scheduled: the runbook's eight steps. resume and rollback finish a half-rotated credential that
 * no live run owns (found by the reconciler), from what Vault holds: forwards (deploy, verify,
 * revoke) or backwards (restore, redeploy, re-verify, revoke the new key).
 */
export type Procedure = 'scheduled' | 'resume' | 'rollback' | 'emergency' | 'manual';

export const SCHEDULED_STEPS = [
  'check-dependencies',
  'generate',
  'store-new',
  'deploy',
  'verify',
  'revoke-old',
  'record',
  'notify',
] as const;

export const ROLLBACK_STEPS = [
  'restore-previous',
  'redeploy-previous',
  'reverify-previous',
  'revoke-new',
] as const;

/**
 * The runbook's emergency order, with one change: the new value is stored before the compromised
 * key is revoked, so a revocation the issuer refuses can be retried (re-queued) without losing the
 * new value and minting another key each time. The compromised key is still revoked before any
 * consumer is deployed, which is what the runbook's order protects. assess-scope starts the
 * assessment as a job of its own and never waits for it.
 */
export const EMERGENCY_STEPS = [
  'assess-scope',
  'generate',
  'store-new',
  'revoke-compromised',
  'deploy',
  'verify',
  'incident-record',
  'notify',
] as const;

/**
 * Guided manual rotation (issuer.kind manual): a person creates the key at a console and writes it
 * to Vault, then revokes the old one there; the run waits for each (parked, no worker held), checks
 * Vault and the test URL, and deploys and verifies like any other run.
 */
export const MANUAL_STEPS = [
  'check-dependencies',
  'await-stored',
  'deploy',
  'verify',
  'await-revoked',
  'record',
  'notify',
] as const;

/** What a parked manual run asks of people; shown in its progress message. Never a value. */
export interface ManualAsk {
  awaiting: 'stored' | 'revoked';
  /** The runbook's steps at the console. */
  checklist: string[];
  consoleUrl?: string;
  /** The exact store command, with placeholders for the value. */
  command?: string;
  /** Why the last click was refused (no new Vault version, old key still accepted). */
  refusal?: string;
  /** When people were last asked (the progress message first, then reminders). */
  askedAt: string;
}

/** A resumed run starts where the store already holds the new key. */
export const RESUME_STEPS = ['deploy', 'verify', 'revoke-old', 'record', 'notify'] as const;

export type ForwardStepName =
  (typeof SCHEDULED_STEPS)[number] | (typeof EMERGENCY_STEPS)[number] | (typeof MANUAL_STEPS)[number];
export type RollbackStepName = (typeof ROLLBACK_STEPS)[number];
export type StepName = ForwardStepName | RollbackStepName;

export type StepStatus = 'pending' | 'running' | 'waiting' | 'done' | 'failed' | 'skipped';
export type RunOutcome = 'succeeded' | 'rolled_back' | 'failed' | 'refused';
export type RunStatus = 'queued' | 'running' | 'waiting' | 'finished';

export interface Identity {
  kind: 'slack' | 'cli' | 'schedule';
  id: string;
  name?: string;
}

export interface StepState {
  name: StepName;
  phase: 'forward' | 'rollback';
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  /** Human-readable progress; never a value. */
  detail?: string;
  /** First time this step asked to be re-checked later (bounded waits). */
  waitingSince?: string;
}

/** Checkpointed facts a resumed run needs. Ids and versions only, never a credential value. */
/** Where a deploy (forward or rollback) got to, so a re-queued step resumes instead of redoing. */
export interface DeployProgress {
  syncRequestedAt?: string;
  /** The force-sync annotation was accepted: it is never patched again. */
  syncPatched?: boolean;
  /** Looks that found the sync not done yet: each next look waits twice as long. */
  syncChecks?: number;
  syncedAt?: string;
  restartRequestedAt?: string;
  /** Consumers whose restart patch was accepted: they are never patched again. */
  restarted?: string[];
  doneAt?: string;
  /**
   * A salted digest (adapters/value-digest) of the value this deploy brings, from the step that
   * stored it: the synced Secret is compared with it, so no step re-reads Vault for the value.
   * Never the value itself.
   */
  valueDigest?: string;
}

export interface RunFacts {
  baseVersion?: number;
  deploys?: { forward?: DeployProgress; rollback?: DeployProgress };
  oldKeyId?: string;
  newKeyId?: string;
  newVersion?: number;
  deployedAt?: string;
  verifiedAt?: string;
  revokedAt?: string;
  restoredVersion?: number;
  rollbackStartedAt?: string;
  consumersVerified?: string[];
  consumersRestarted?: string[];
  consumersNextJob?: string[];
  orphansRevoked?: string[];
  oldKeyLastUsedAt?: string;
  /** Issuers that deactivate before deleting (AWS): when the old key was switched off. */
  oldKeyDeactivatedAt?: string;
  /** When the deactivated old key's delayed deletion job runs. */
  oldKeyDeleteAt?: string;
  /** When that job deleted it. */
  oldKeyDeletedAt?: string;
  /** An approver switched the old key back on (a forgotten consumer): it is not deleted. */
  oldKeyReactivated?: { at: string; by: string };
  /** Why the deletion job kept the old key (a use after the deploy showed up late, as IAM's lag allows). */
  oldKeyKept?: string;
  /** Database logins: connections still open on the old password when it was revoked (count and source). */
  oldSessionsOpen?: string;
  /** Alternating users: when revocation first found connections open on the old login (its drain wait began). */
  drainStartedAt?: string;
  /**
   * The rotation succeeded but Vault's record (previous_key cleared, rotation_verified_at) could not
   * be written yet: the reconciler retries it until it is done.
   */
  recordPending?: boolean;
  /** Emergency: the keys revoked as compromised (the current one, and a still-active previous one). */
  compromisedKeyIds?: string[];
  /** Emergency: when a refused revocation and an unhealthy consumer were escalated (once each). */
  escalatedAt?: { revoke?: string; verify?: string };
  /** Emergency: verification did not pass in time; the incident record says "pending". */
  verificationPending?: boolean;
}

export interface RunFailure {
  step: StepName;
  code: string;
  message: string;
  hint?: TroubleshootingKey;
}

export interface Run {
  id: string;
  credential: string;
  procedure: Procedure;
  requester: Identity;
  approver?: Identity;
  createdAt: string;
  updatedAt: string;
  status: RunStatus;
  steps: StepState[];
  facts: RunFacts;
  outcome?: RunOutcome;
  failure?: RunFailure;
  /** The summary could not be posted; the outcome stands. */
  notifyError?: string;
  /** Where progress is shown in Slack, if anywhere. */
  slack?: { channel: string; threadTs?: string; progressTs?: string };
  /** Emergency runs: the incident they belong to (its reference and channel). */
  incident?: { ref: string; channel: string };
  /** Manual runs: what the run is waiting for people to do, while it waits. */
  manual?: ManualAsk;
}

export function newRun(input: {
  id: string;
  credential: string;
  requester: Identity;
  approver?: Identity;
  now: Date;
  slack?: Run['slack'];
  procedure?: Procedure;
  /** What a resume or rollback starts from (read from the store, never a value). */
  facts?: RunFacts;
  incident?: Run['incident'];
}): Run {
  const at = input.now.toISOString();
  const procedure = input.procedure ?? 'scheduled';
  return {
    id: input.id,
    credential: input.credential,
    procedure,
    requester: input.requester,
    ...(input.approver ? { approver: input.approver } : {}),
    createdAt: at,
    updatedAt: at,
    status: 'queued',
    steps: stepsOf(procedure),
    facts: {
      ...input.facts,
      ...(procedure === 'rollback' ? { rollbackStartedAt: at } : {}),
    },
    ...(input.slack ? { slack: input.slack } : {}),
    ...(input.incident ? { incident: input.incident } : {}),
  };
}

function stepsOf(procedure: Procedure): StepState[] {
  if (procedure === 'rollback') {
    return [
      ...ROLLBACK_STEPS.map((name): StepState => ({ name, phase: 'rollback', status: 'pending' })),
      { name: 'notify', phase: 'forward', status: 'pending' },
    ];
  }
  const names: readonly StepName[] =
    procedure === 'resume'
      ? RESUME_STEPS
      : procedure === 'emergency'
        ? EMERGENCY_STEPS
        : procedure === 'manual'
          ? MANUAL_STEPS
          : SCHEDULED_STEPS;
  return names.map((name) => ({ name, phase: 'forward', status: 'pending' }));
}

/** The outcome of a run that got to its end without a failure. */
export const completedOutcome = (run: Run): RunOutcome =>
  run.procedure === 'rollback' ? 'rolled_back' : 'succeeded';

export function nextStep(run: Run): StepState | undefined {
  return run.steps.find((s) => s.status !== 'done' && s.status !== 'skipped' && s.status !== 'failed');
}

export function stepDurationMs(step: StepState): number | undefined {
  if (!step.startedAt || !step.endedAt) return undefined;
  return Date.parse(step.endedAt) - Date.parse(step.startedAt);
}

export function runDurationMs(run: Run): number {
  return Date.parse(run.updatedAt) - Date.parse(run.createdAt);
}
