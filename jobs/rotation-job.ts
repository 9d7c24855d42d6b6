import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { isRotatorError } from '../src/domain/errors';
import type { RotationEngine } from '../src/procedures/engine';
import type { RotationJobData } from '../src/queue/names';

/** Permanent failures: retrying the job cannot help. */
const PERMANENT = new Set(['unknown_credential', 'locked', 'internal']);

/**
 * BullMQ processor for the `rotations` queue. The job carries only the run id; a step that must
 * wait re-queues the job delayed instead of sleeping in the worker. When the step also watches for
 * what it waits for (a rollout), the delayed job is promoted the moment that happens; the delay
 * stays as the fallback poll.
 */
export function createRotationProcessor(engine: RotationEngine) {
  return async (job: Job<RotationJobData>, token?: string): Promise<string> => {
    try {
      const result = await engine.advance(job.data.runId);
      if (result.kind === 'wait') {
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        // A promote that loses the race with the delay (the job already runs) changes nothing.
        void result.wake?.then((now) => (now ? job.promote() : undefined)).catch(() => undefined);
        throw new DelayedError();
      }
      return result.run.outcome ?? 'succeeded';
    } catch (e) {
      if (isRotatorError(e) && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
      throw e;
    }
  };
}
