import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { isRotatorError } from '../src/domain/errors';
import type { RotationEngine } from '../src/procedures/engine';
import type { RotationJobData } from '../src/queue/names';

/** Permanent failures: retrying the job cannot help. */
const PERMANENT = new Set(['unknown_credential', 'locked', 'internal']);

/**
 * Promotes a delayed job the moment it is due, or sooner when `wake` resolves true. Left to itself
 * the job would run up to 100 ms late: a worker waits for its delayed jobs in a blocking Redis
 * command whose timeout Redis checks only at its `hz` (10 times a second by default), measured as
 * 0-107 ms per wait. The delayed job stays the fallback should this process die. A promote that
 * loses the race with the worker (the job already runs) changes nothing.
 */
function promoteWhenDue(job: Job, delayMs: number, wake?: Promise<boolean>): void {
  let timer: NodeJS.Timeout | undefined;
  const due = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, delayMs);
    timer.unref();
  });
  const woken =
    wake?.then(
      (now) => (now ? undefined : due),
      () => due,
    ) ?? due;
  void Promise.race([due, woken])
    .then(() => {
      clearTimeout(timer);
      return job.promote();
    })
    .catch(() => undefined);
}

/**
 * BullMQ processor for the `rotations` queue. The job carries only the run id; a step that must
 * wait re-queues the job delayed instead of sleeping in the worker. When the step also watches for
 * what it waits for (a rollout), the delayed job is promoted the moment that happens; the delay
 * stays as the fallback poll. Either way this process promotes it when due, not Redis's timeout.
 */
export function createRotationProcessor(engine: RotationEngine) {
  return async (job: Job<RotationJobData>, token?: string): Promise<string> => {
    try {
      const result = await engine.advance(job.data.runId);
      if (result.kind === 'wait') {
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        promoteWhenDue(job, result.delayMs, result.wake);
        throw new DelayedError();
      }
      return result.run.outcome ?? 'succeeded';
    } catch (e) {
      if (isRotatorError(e) && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
      throw e;
    }
  };
}
