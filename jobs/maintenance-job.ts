import type { Job } from 'bullmq';
import { assessRunScope, type ScopeDeps } from '../src/procedures/scope';
import {
  ASSESS_JOB,
  DEADLINE_JOB,
  RECONCILE_JOB,
  REMINDER_JOB,
  type AssessJobData,
  type DeadlineJobData,
  type ReminderJobData,
} from '../src/queue/names';
import { createDeadlineProcessor, type DeadlineJobDeps } from './deadline-job';
import { createReconcileProcessor, type ReconcileJobDeps } from './reconcile-job';
import { createReminderProcessor, type ReminderJobDeps } from './reminder-job';

/** The maintenance queue's jobs by name: reconciler ticks, scope assessments, deadlines, reminders. */
export function createMaintenanceProcessor(deps: {
  reconcile: ReconcileJobDeps;
  scope: ScopeDeps;
  deadlines: DeadlineJobDeps;
  reminders: ReminderJobDeps;
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
      default:
        throw new Error(`unknown maintenance job ${job.name}`);
    }
  };
}
