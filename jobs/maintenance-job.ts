import type { Job } from 'bullmq';
import { deleteOldKey, reactivateOldKey, type OldKeyDeps } from '../src/procedures/old-key-deletion';
import { assessRunScope, type ScopeDeps } from '../src/procedures/scope';
import {
  ASSESS_JOB,
  DEADLINE_JOB,
  DELETE_OLD_KEY_JOB,
  REACTIVATE_OLD_KEY_JOB,
  RECONCILE_JOB,
  REMINDER_JOB,
  type AssessJobData,
  type DeadlineJobData,
  type OldKeyJobData,
  type ReminderJobData,
} from '../src/queue/names';
import { createDeadlineProcessor, type DeadlineJobDeps } from './deadline-job';
import { createReconcileProcessor, type ReconcileJobDeps } from './reconcile-job';
import { createReminderProcessor, type ReminderJobDeps } from './reminder-job';

/**
 * The maintenance queue's jobs by name: reconciler ticks, emergency scope assessments, deadlines,
 * reminders, and old keys deactivated by a rotation (their delayed deletion, an approver's reactivation).
 */
export function createMaintenanceProcessor(deps: {
  reconcile: ReconcileJobDeps;
  scope: ScopeDeps;
  deadlines: DeadlineJobDeps;
  reminders: ReminderJobDeps;
  oldKeys?: OldKeyDeps;
}) {
  const reconcile = createReconcileProcessor(deps.reconcile);
  const deadline = createDeadlineProcessor(deps.deadlines);
  const reminders = createReminderProcessor(deps.reminders);
  return async (job: Job): Promise<unknown> => {
    switch (job.name) {
      case RECONCILE_JOB:
        return reconcile();
      case ASSESS_JOB:
        return (await assessRunScope(deps.scope, (job.data as AssessJobData).runId))?.status ?? 'no run';
      case DEADLINE_JOB:
        return deadline(job as Job<DeadlineJobData>);
      case REMINDER_JOB:
        return reminders(job as Job<ReminderJobData>);
      case DELETE_OLD_KEY_JOB:
      case REACTIVATE_OLD_KEY_JOB: {
        if (!deps.oldKeys) throw new Error(`this worker cannot run ${job.name}`);
        const data = job.data as OldKeyJobData;
        return job.name === DELETE_OLD_KEY_JOB
          ? deleteOldKey(deps.oldKeys, data.runId)
          : reactivateOldKey(deps.oldKeys, data.runId, data.identity ?? 'unknown');
      }
      default:
        throw new Error(`unknown maintenance job ${job.name}`);
    }
  };
}
