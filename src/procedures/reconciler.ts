import type { Logger } from 'pino';
import type { CredentialSpec } from '../domain/credential';
import { safeMessage } from '../domain/errors';
import type { AuditLog, Clock, Issuer, KeyStatus, SecretStore, StoredCredential } from '../domain/ports';
export type { HalfRotated } from '../domain/half-rotated';
import type { HalfRotated } from '../domain/half-rotated';
import type { Run } from '../domain/run';
import type { RunStore } from '../queue/run-store';
import { mapLimit } from './bounded';
import { recordPatch } from './steps/record';

export type Finding =
  | HalfRotated
  | { kind: 'recorded'; credential: string; version: number; runId: string }
  | { kind: 'unreadable'; credential: string; reason: string };

export interface ReconcilerDeps {
  catalog: Map<string, CredentialSpec>;
  store: SecretStore;
  runs: RunStore;
  issuerFor: (spec: CredentialSpec) => Issuer;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  /** Vault reads in flight at once (default 8). */
  concurrency?: number;
}

/**
 * Vault is the source of truth and Redis a cache of progress: the reconciler compares the two.
 * A credential whose Vault entry still keeps a previous key while no live run owns it is a
 * half-rotation nobody is finishing (Redis lost the run, or a run ended half-way). A succeeded run
 * whose record could not be written is finished here; everything else is reported.
 */
export class Reconciler {
  constructor(private readonly deps: ReconcilerDeps) {}

  async scan(): Promise<Finding[]> {
    const specs = [...this.deps.catalog.values()];
    const found = await mapLimit(specs, this.deps.concurrency ?? 8, (spec) => this.inspect(spec));
    return found.filter((f): f is Finding => f !== undefined);
  }

  private async inspect(spec: CredentialSpec): Promise<Finding | undefined> {
    let current: StoredCredential | undefined;
    try {
      current = await this.deps.store.read(spec.store);
    } catch (e) {
      return { kind: 'unreadable', credential: spec.name, reason: safeMessage(e) };
    }
    if (!current?.previousValue) return undefined;
    if (await this.liveRun(spec.name)) return undefined;
    const run = current.runId ? await this.deps.runs.get(current.runId) : undefined;
    const oldKeyStatus = await this.keyStatus(spec, current.previousKeyId);
    if (run?.status === 'finished' && run.facts.recordPending && oldKeyStatus !== 'active') {
      return this.finishRecord(spec, current, run);
    }
    return {
      kind: 'half_rotated',
      credential: spec.name,
      version: current.version,
      ...(current.rotatedAt ? { rotatedAt: current.rotatedAt } : {}),
      ...(current.rotatedBy ? { rotatedBy: current.rotatedBy } : {}),
      ...(current.runId ? { runId: current.runId } : {}),
      runState: run ? (run.outcome ?? run.status) : 'unknown',
      ...(current.keyId ? { newKeyId: current.keyId } : {}),
      ...(current.previousKeyId ? { oldKeyId: current.previousKeyId } : {}),
      ...(oldKeyStatus ? { oldKeyStatus } : {}),
      canRollBack: oldKeyStatus === 'active',
    };
  }

  /** A run holds the credential's lock and has not finished. */
  private async liveRun(credential: string): Promise<boolean> {
    const holder = await this.deps.runs.lockHolder(credential);
    if (!holder) return false;
    const run = await this.deps.runs.get(holder);
    return run !== undefined && run.status !== 'finished';
  }

  private async keyStatus(spec: CredentialSpec, keyId: string | undefined): Promise<KeyStatus | undefined> {
    if (!keyId) return undefined;
    try {
      return await this.deps.issuerFor(spec).status(keyId);
    } catch {
      return undefined; // cannot tell: neither finish the record nor offer a rollback on a guess
    }
  }

  /** The rotation succeeded and the old key is gone: clear previous_key as the run's record step would have. */
  private async finishRecord(spec: CredentialSpec, current: StoredCredential, run: Run): Promise<Finding> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.store.patch(spec.store, recordPatch(spec, at, current.rotatedAt), current.version);
    run.facts.recordPending = false;
    await this.deps.runs.save(run);
    await this.deps.audit.record({
      runId: run.id,
      credential: spec.name,
      action: 'reconcile.recorded',
      outcome: 'succeeded',
      identity: 'reconciler',
      detail: `secret/${spec.store} version ${current.version}: previous_key cleared after the run's record step failed`,
    });
    this.deps.logger.info({ credential: spec.name, runId: run.id }, 'pending record finished');
    return { kind: 'recorded', credential: spec.name, version: current.version, runId: run.id };
  }
}
