import type { Queue } from 'bullmq';
import type { CredentialSpec } from '../domain/credential';
import { RotatorError } from '../domain/errors';
import type { AuditLog, Clock, SecretStore } from '../domain/ports';
import type { Run } from '../domain/run';
import type { ManualAction, ManualConfirmations } from '../queue/manual-confirmations';
import { rotationJobId, type RotationJobData } from '../queue/names';
import type { RunStore } from '../queue/run-store';

export interface ManualGateDeps {
  catalog: Map<string, CredentialSpec>;
  store: SecretStore;
  runs: RunStore;
  confirmations: ManualConfirmations;
  queue: Queue<RotationJobData>;
  audit: AuditLog;
  clock: Clock;
}

const WHAT: Record<ManualAction, string> = { stored: 'Stored', revoked: 'Revoked' };

/**
 * Where a person's Stored / Revoked click lands: it is checked against the parked run (and, for
 * Stored, against Vault: no new version, no click), recorded beside the run, and the run's delayed
 * job is woken. The run's own step checks again before it acts.
 */
export class ManualGate {
  constructor(private readonly deps: ManualGateDeps) {}

  /** Throws RotatorError `not_allowed` / `store_conflict` with a message for the person who clicked. */
  async confirm(input: {
    runId: string;
    action: ManualAction;
    identity: string;
    /** Whether the person may act on this run (its requester, approver, or an approver of the credential). */
    allowed: (run: Run, spec: CredentialSpec | undefined) => Promise<boolean>;
  }): Promise<Run> {
    const { runs, store, confirmations, audit } = this.deps;
    const run = await runs.get(input.runId);
    if (!run || run.procedure !== 'manual')
      throw new RotatorError('not_allowed', 'this button does not belong to a manual rotation');
    const refuse = async (code: 'not_allowed' | 'store_conflict', text: string): Promise<never> => {
      await audit.record({
        runId: run.id,
        credential: run.credential,
        action: `manual.${input.action}`,
        outcome: 'refused',
        identity: input.identity,
        detail: text,
      });
      throw new RotatorError(code, text);
    };
    const spec = this.deps.catalog.get(run.credential);
    if (!(await input.allowed(run, spec)))
      return refuse(
        'not_allowed',
        `only the requester, the approver or an approver of ${run.credential} may click ${WHAT[input.action]}`,
      );
    if (run.status === 'finished')
      return refuse('not_allowed', `run ${run.id} already finished (${run.outcome ?? 'finished'})`);
    if (run.manual?.awaiting !== input.action)
      return refuse('not_allowed', `run ${run.id} is not waiting for ${WHAT[input.action]} now`);
    if (input.action === 'stored') {
      const current = spec ? await store.read(spec.store) : undefined;
      if (!spec || !current || current.version <= (run.facts.baseVersion ?? Infinity)) {
        return refuse(
          'store_conflict',
          `secret/${spec?.store ?? run.credential} has no new version since the run began (still version ${current?.version ?? 'none'}): write the new key with the command shown, then click Stored`,
        );
      }
    }
    await confirmations.confirm(run.id, input.action, {
      by: input.identity,
      at: this.deps.clock.now().toISOString(),
    });
    await audit.record({
      runId: run.id,
      credential: run.credential,
      action: `manual.${input.action}.clicked`,
      outcome: 'info',
      identity: input.identity,
    });
    await this.wake(run.id);
    return run;
  }

  /**
   * Moves the parked job to now. A job that is active (its step is running) is retried briefly: it
   * may be about to park again without having seen the click.
   */
  private async wake(runId: string): Promise<void> {
    for (let attempt = 0; attempt < 20; attempt++) {
      const job = await this.deps.queue.getJob(rotationJobId(runId));
      if (!job) return;
      if (await job.isDelayed()) {
        try {
          await job.promote();
          return;
        } catch {
          // it moved between the look and the promote: look again
        }
      } else if (!(await job.isActive())) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
