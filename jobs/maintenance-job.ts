import type { Job } from 'bullmq';
import { assessRunScope, type ScopeDeps } from '../src/procedures/scope';
import {
  ASSESS_JOB,
  DEADLINE_JOB,
  RECONCILE_JOB,
  type AssessJobData,
  type DeadlineJobData,
} from '../src/queue/names';
import { createDeadlineProcessor, type DeadlineJobDeps } from './deadline-job';
import { createReconcileProcessor, type ReconcileJobDeps } from './reconcile-job';

/** The maintenance queue's jobs by name: reconciler ticks, emergency scope assessments, deadlines. */
export function createMaintenanceProcessor(deps: {
  reconcile: ReconcileJobDeps;
  scope: ScopeDeps;
  deadlines: DeadlineJobDeps;
}) {
  const reconcile = createReconcileProcessor(deps.reconcile);
  const deadline = createDeadlineProcessor(deps.deadlines);
  return async (job: Job): Promise<unknown> => {
    switch (job.name) {
      case RECONCILE_JOB:
        return reconcile();
      case ASSESS_JOB:
        return (await assessRunScope(deps.scope, (job.data as AssessJobData).runId))?.status ?? 'no run';
      case DEADLINE_JOB:
        return deadline(job as Job<DeadlineJobData>);
      default:
        throw new Error(`unknown maintenance job ${job.name}`);
    }
  };
}
