/**
 * The ports the procedures depend on. Implementations live in src/adapters/<port>/.
 * No method takes or returns a credential value except as a `Secret`.
 */
import type { Consumer, CredentialSpec, KubernetesRef } from './credential';
import type { IncidentRecord } from './incident';
import type { Run } from './run';
import type { TroubleshootingKey } from './troubleshooting';
import type { Secret } from './secret';

// ---------------------------------------------------------------- SecretStore (Vault KV v2)

/** The runbook's metadata object, stored beside the value. */
export interface StoredMetadata {
  issuer?: string;
  consumers?: string[];
  rotation_contact?: string;
  last_rotated?: string;
}

/** A KV v2 version of a credential entry, values wrapped. */
export interface StoredCredential {
  path: string;
  version: number;
  createdTime: string;
  value?: Secret; // api_key (or current_secret for webhooks)
  previousValue?: Secret; // previous_key; undefined when "" (cleared)
  keyId?: string;
  previousKeyId?: string;
  /** The database user the value logs in as (username beside password). */
  username?: string;
  rotatedAt?: string;
  rotatedBy?: string;
  rotationVerifiedAt?: string;
  emergencyRotation?: boolean;
  incidentReference?: string;
  /** rotation_run_id: the run whose write produced this version (a ClientRequestToken, never secret). */
  runId?: string;
  metadata?: StoredMetadata;
}

export interface StoreVersionWrite {
  value: Secret;
  keyId?: string;
  previousValue?: Secret;
  previousKeyId?: string;
  username?: string;
  rotatedAt: string;
  rotatedBy: string;
  metadata?: StoredMetadata;
  emergencyRotation?: boolean;
  incidentReference?: string;
  /**
   * The run writing this version. After a write whose answer was lost, reading it back tells
   * whether the write landed (AWS Secrets Manager's ClientRequestToken, for Vault).
   */
  runId?: string;
}

export interface StorePatch {
  clearPrevious?: boolean; // previous_key = "" (and previous_key_id = "")
  rotationVerifiedAt?: string;
  metadata?: StoredMetadata;
}

export interface SecretStore {
  /** Current version, or a given one; undefined when the path does not exist. */
  read(path: string, version?: number): Promise<StoredCredential | undefined>;
  /** Writes a new version with check-and-set; `cas` 0 = only if absent. Returns the new version. */
  write(path: string, data: StoreVersionWrite, cas: number): Promise<number>;
  /** JSON merge-patch of the current version with check-and-set (cas > 0). Returns the new version. */
  patch(path: string, patch: StorePatch, cas: number): Promise<number>;
  /** Entry names directly below a folder (e.g. "api-credentials/"); [] when empty. */
  list(folder: string): Promise<string[]>;
  /** The field that holds the value at `path`: what a person writing it by hand must fill. */
  valueField(path: string): string;
}

// ---------------------------------------------------------------- Issuer

export type KeyStatus = 'active' | 'inactive' | 'revoked' | 'absent';

export interface IssuedKeyInfo {
  keyId: string;
  label: string;
  status: KeyStatus;
  createdAt: string;
  lastUsedAt?: string;
}

export interface Issuer {
  /** Creates a new key labelled `label` (e.g. rotator/<credential>/<runId>). */
  create(label: string): Promise<{ keyId: string; value: Secret }>;
  list(): Promise<IssuedKeyInfo[]>;
  status(keyId: string): Promise<KeyStatus>;
  /** Idempotent: a key that is already gone is not an error. */
  revoke(keyId: string): Promise<void>;
  /** When the key was last used, if the issuer reports it; undefined when it never was or cannot tell. */
  lastUsed(keyId: string): Promise<Date | undefined>;
  /**
   * Whether the issuer accepts this value now (the runbook's "attempt to use old credential").
   * Issuers whose keys are a pair (AWS: access key id + secret) need the key's id too.
   */
  accepts(value: Secret, keyId?: string): Promise<boolean>;
  /** How many keys may exist at once (IAM: two per user, inactive ones count); unlimited when absent. */
  readonly keyLimit?: number;
  /**
   * Issuers that can switch a key off without deleting it (AWS's UpdateAccessKey): revocation then
   * deactivates the old key and deletes it after a grace period, so a forgotten consumer can be rescued.
   */
  deactivate?(keyId: string): Promise<void>;
  reactivate?(keyId: string): Promise<void>;
  /** The issuer's access log for a key since a time, oldest first, where the issuer keeps one. */
  usage?(keyId: string, since: Date): Promise<KeyUse[]>;
  /**
   * Database logins: the sessions still open on the key's password (pg_stat_activity,
   * information_schema.processlist), which a revocation does not close.
   */
  openSessions?(keyId: string): Promise<OpenSessions>;
  /**
   * Makes `value`, which the store held for `keyId`, valid at the issuer again: a rollback where
   * `create` replaced the old value in place (a database user's password).
   */
  reinstate?(keyId: string, value: Secret): Promise<void>;
  /** The login name stored beside the value (the store's `username`), for issuers whose keys are logins. */
  loginOf?(keyId: string): string | undefined;
}

/** Connections still open on an old database password: the runbook's "connection pools may require pool drain". */
export interface OpenSessions {
  count: number;
  /** Where the server reports them, e.g. pg_stat_activity. */
  source: string;
  /** Whether the old login still accepts new connections (an idle user not yet locked). */
  loginOpen: boolean;
}

/** One use of a key from the issuer's access log (the runbook's /v1/audit-log). */
export interface KeyUse {
  time: string;
  keyId: string;
  remoteAddress?: string;
}

// ---------------------------------------------------------------- Deployer (Kubernetes)

export type RolloutState =
  { state: 'done' } | { state: 'waiting'; reason: string } | { state: 'failed'; reason: string };

export interface DiscoveredConsumer {
  namespace: string;
  deployment: string;
  /** How the secret is referenced: env (secretKeyRef), envFrom, volume. */
  via: Array<'env' | 'envFrom' | 'volume'>;
}

/** Where discovery looks: only these namespaces, only deployments matching the label selector. */
export interface DiscoveryScope {
  namespaces?: string[];
  labelSelector?: string;
}

export interface Deployer {
  /**
   * Annotates the ExternalSecret force-sync=<unix milliseconds> (merge patch). `mayHaveLanded`: an
   * earlier attempt with this `at` may have been applied, so it is read first and not patched again.
   */
  forceSync(
    namespace: string,
    externalSecret: string,
    at: Date,
    opts?: { mayHaveLanded?: boolean },
  ): Promise<void>;
  /**
   * True once the target Secret holds `expectedDigest` (SHA-256 hex of the value) when given, and
   * status.refreshTime >= `since` with Ready=True when the Secret's content cannot tell.
   */
  synced(namespace: string, externalSecret: string, since: Date, expectedDigest?: string): Promise<boolean>;
  /** kubectl rollout restart: strategic-merge patch of the restartedAt annotation. */
  restart(ref: KubernetesRef, at: Date): Promise<void>;
  /** kubectl rollout status, one look. */
  rolloutStatus(ref: KubernetesRef): Promise<RolloutState>;
  /**
   * Where the cluster can tell (a watch): resolves true as soon as every rollout of `refs` finished
   * or one failed; false after `maxMs` or when the watch failed (the poll goes on). Never rejects.
   */
  rolloutsSettled?(refs: KubernetesRef[], maxMs: number): Promise<boolean>;
  /** Deployments referencing the Kubernetes Secret `secretName`, within `scope` (else everywhere). */
  discover(secretName: string, scope?: DiscoveryScope): Promise<DiscoveredConsumer[]>;
  /** Stops background work (watches) at shutdown. */
  close?(): void;
}

/** The cluster's dependency map for many Secrets at once: one pass over the deployments, not one per Secret. */
export interface SecretReferences {
  /** Per Secret name, the deployments (any namespace) whose pod template uses it; [] for none. */
  references(secretNames: string[]): Promise<Map<string, DiscoveredConsumer[]>>;
}

// ---------------------------------------------------------------- Verifier

export interface HealthResult {
  consumer: string;
  ok: boolean;
  status?: number;
  detail: string;
}

export interface HealthCheckOptions {
  /** When the value being verified began to reach the consumers: evidence older than this does not count. */
  since?: Date;
}

export interface HealthChecker {
  check(consumer: Consumer, opts?: HealthCheckOptions): Promise<HealthResult>;
}

// ---------------------------------------------------------------- AuditLog

export interface AuditEntry {
  runId?: string;
  credential: string;
  action: string; // e.g. step.started, step.completed, run.refused, approval.granted
  step?: string;
  outcome: 'started' | 'succeeded' | 'failed' | 'refused' | 'info';
  identity: string; // who: slack:U123, cli:alice, schedule
  detail?: string;
  time?: string; // filled in by the log when absent
}

export interface AuditLog {
  /** Fail-closed: rejects when the record could not be written. */
  record(entry: AuditEntry): Promise<void>;
  /** Most recent first. */
  recent(filter: {
    credential?: string;
    runId?: string;
    limit?: number;
  }): Promise<Array<AuditEntry & { time: string }>>;
}

// ---------------------------------------------------------------- ChatNotifier

/** How the engine tells chat about a run. Implemented by src/adapters/chat/. */
export interface ChatNotifier {
  /**
   * Called after every step transition (the run saved first): the run's progress message in its
   * thread is brought to its newest state. Best effort. `progressTs` when the call knows the
   * message's ts (a notifier that posts in place); a queued notifier keeps it itself.
   */
  progress(run: Run): Promise<{ progressTs?: string }>;
  /**
   * Final summary to the run's thread (if any) and the credential's channel. Never waits on
   * Slack's pace: it may queue the summary, and then a channel's later refusal reaches the run as
   * `notifyError`. Throws when the summary can be neither posted nor queued.
   */
  summary(run: Run, spec: CredentialSpec): Promise<void>;
  /**
   * A new message in the run's thread that people are notified of (a manual run's reminder). Text
   * is the bot's own, never a user's. Throws when it can be neither posted nor queued.
   */
  remind?(run: Run, text: string): Promise<void>;
  /**
   * Why the summary could not be posted in `channel` (the fallback channel when undefined): it does
   * not exist, is archived, or the bot may not post there. Undefined when it can. Never throws.
   */
  channelProblem?(channel: string | undefined): Promise<string | undefined>;
}

// ---------------------------------------------------------------- IncidentChannel

/** One escalation of a run to its incident. */
export interface Escalation {
  text: string;
  hint?: TroubleshootingKey;
  security?: boolean;
  /**
   * What this escalation is, unique within its run (`escalation:revoke`, `deadline:half`): it is
   * posted once per run and channel, however often the step or job that raises it is retried.
   */
  once: string;
}

/** How an emergency run speaks to its incident: at once, never batched behind progress. */
export interface IncidentChannel {
  /**
   * Posts to the run's incident channel now (a revocation the issuer refuses, a consumer that stays
   * unhealthy, a deadline), and to the security channel too when `security` is set. Throws on failure.
   */
  escalate(run: Run, message: Escalation): Promise<void>;
  /**
   * The incident record (runbook format) to the incident channel, once per run however often the
   * step is retried. Throws on failure.
   */
  record(run: Run, record: IncidentRecord): Promise<void>;
}

// ---------------------------------------------------------------- Clock

export interface Clock {
  now(): Date;
}
