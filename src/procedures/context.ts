import type { Logger } from 'pino';
import type { CredentialSpec } from '../domain/credential';
import type {
  AuditLog,
  Clock,
  Deployer,
  HealthChecker,
  IncidentChannel,
  Issuer,
  SecretStore,
  StoredCredential,
} from '../domain/ports';
import type { Run, StepName } from '../domain/run';
import type { Secret } from '../domain/secret';
import type { ManualConfirmations } from '../queue/manual-confirmations';
import type { RunStore } from '../queue/run-store';
import type { ChatNotifier } from '../domain/ports';

export interface EngineSettings {
  /** How soon a waiting step looks again (rollouts, syncs, propagation). */
  pollIntervalMs: number;
  /** A deploy (sync + rollouts) that takes longer fails: the runbook's progress deadline. */
  rolloutTimeoutMs: number;
  /** How long an unhealthy consumer may take to become healthy before verification fails. */
  verifyGraceMs: number;
  /**
   * How long the old key must go unused after every consumer was redeployed before it is revoked:
   * a forgotten consumer shows up as a use inside this window.
   */
  quietWindowMs: number;
  /** The runbook's 5-15 minutes a provider may take to propagate a revocation. */
  propagationMs: number;
  /** The runbook's prerequisite: previous values restored within 15 minutes. */
  rollbackBudgetMs: number;
  /**
   * How long a step keeps re-trying a transient dependency failure (Vault 503, a provider's rate
   * limit, a Kubernetes blip) after the adapters' own retries, before it counts as a failure.
   */
  transientRetryMs: number;
  /**
   * Per-credential lock expiry, longer than any single wait: refreshed each time a worker takes the
   * run up (every job), and within one job once a quarter of it has gone by.
   */
  lockTtlMs: number;
  /** How often a manual run waiting for people reminds them in its thread. */
  manualReminderMs: number;
}

export const DEFAULT_SETTINGS: EngineSettings = {
  pollIntervalMs: 5_000,
  rolloutTimeoutMs: 600_000,
  verifyGraceMs: 60_000,
  quietWindowMs: 300_000,
  propagationMs: 900_000,
  rollbackBudgetMs: 900_000,
  transientRetryMs: 300_000,
  lockTtlMs: 2 * 3_600_000,
  manualReminderMs: 4 * 3_600_000,
};

export interface EngineDeps {
  runs: RunStore;
  catalog: Map<string, CredentialSpec>;
  store: SecretStore;
  issuerFor: (spec: CredentialSpec) => Issuer;
  deployer: Deployer;
  health: HealthChecker;
  audit: AuditLog;
  chat: ChatNotifier;
  clock: Clock;
  logger: Logger;
  settings: EngineSettings;
  /** Emergency runs: escalations and the incident record, straight to the incident channel. */
  incidents?: IncidentChannel;
  /** Manual runs: the Stored / Revoked clicks people made in Slack. */
  confirmations?: ManualConfirmations;
  /**
   * Issuers that deactivate the old key (AWS): a delayed job deletes it after `delayMs`, the grace
   * period. Idempotent per run.
   */
  scheduleOldKeyDeletion?: (run: Run, delayMs: number) => Promise<void>;
  /** Emergency runs: starts the scope assessment beside the run (a job; never awaited by it). */
  assess?: (run: Run) => Promise<void>;
}

export type StepOutcome =
  | { kind: 'done'; detail?: string }
  /**
   * Look again after `delayMs`: the job is re-queued delayed, no worker sleeps (but for a short
   * wait with no `wake`, which the engine sleeps within a small budget). `wake` resolving true (a
   * watch saw what was waited for) means look again now.
   */
  | { kind: 'wait'; delayMs: number; detail: string; wake?: Promise<boolean> }
  /** Go back to an earlier step (a crash lost what it produced). */
  | { kind: 'redo'; step: StepName; detail: string };

/** Values handed from one step to the next inside one worker invocation only; never persisted. */
export interface Scratch {
  newValue?: Secret;
  /**
   * What Vault held at this invocation's last read, under the run's lock; dropped by every write.
   * A step that only needs what is there (not a read-back before a compensating action) uses it
   * instead of reading again a moment later.
   */
  stored?: { current: StoredCredential | undefined };
}

export interface StepContext {
  run: Run;
  spec: CredentialSpec;
  deps: EngineDeps;
  issuer: Issuer;
  scratch: Scratch;
  now(): Date;
  /** Persists the run now (mid-step checkpoint). */
  checkpoint(): Promise<void>;
}

export type StepFn = (ctx: StepContext) => Promise<StepOutcome>;

export const done = (detail?: string): StepOutcome =>
  detail === undefined ? { kind: 'done' } : { kind: 'done', detail };
export const wait = (ctx: StepContext, detail: string): StepOutcome => ({
  kind: 'wait',
  delayMs: ctx.deps.settings.pollIntervalMs,
  detail,
});

/** Identity string written to audit records and the store's rotated_by. */
export const identityOf = (run: Run): string =>
  `${run.requester.kind}:${run.requester.name ?? run.requester.id}`;

/** Milliseconds since an ISO time. */
export const since = (ctx: StepContext, iso: string): number => ctx.now().getTime() - Date.parse(iso);

/** A read's outcome as a value: started early, its failure waits (not left unhandled) for its turn. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** The value of a settled read, or its failure thrown now. */
export function unsettle<T>(s: Settled<T>): T {
  if (!s.ok) throw s.error;
  return s.value;
}
