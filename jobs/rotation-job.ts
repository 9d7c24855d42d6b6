import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { isRotatorError } from '../src/domain/errors';
import type { RotationEngine } from '../src/procedures/engine';
import type { RotationJobData } from '../src/queue/names';

/** Permanent failures: retrying the job cannot help. */
const PERMANENT = new Set(['unknown_credential', 'locked', 'internal']);

/**
 * BullMQ processor for the `rotations` queue. The job carries only the run id; a step that must
 * wait re-queues the job delayed instead of sleeping in the worker.
 */
export function createRotationProcessor(engine: RotationEngine) {
  return async (job: Job<RotationJobData>, token?: string): Promise<string> => {
    try {
      const result = await engine.advance(job.data.runId);
      if (result.kind === 'wait') {
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        throw new DelayedError();
      }
      return result.run.outcome ?? 'succeeded';
    } catch (e) {
      if (isRotatorError(e) && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
      throw e;
    }
  };
}
