import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import { isRotatorError } from '../src/domain/errors';
import type { RotationEngine } from '../src/procedures/engine';
import type { RotationJobData } from '../src/queue/names';

/** Permanent failures: retrying the job cannot help. */
const PERMANENT = new Set(['unknown_credential', 'locked', 'internal']);

/**
 * A delay this long or longer is left to Redis: its lateness (below) is then under 0.2 %, and a
 * parked run (a manual rotation waiting hours for people) holds no timer.
 */
const PROMOTE_UP_TO_MS = 60_000;

/**
 * Promotes a delayed job the moment it is due, or sooner when `wake` resolves true. Left to itself
 * the job would run up to 100 ms late: a worker waits for its delayed jobs in a blocking Redis
 * command whose timeout Redis checks only at its `hz` (10 times a second by default), measured as
 * 0-107 ms per wait. The delayed job stays the fallback should this process die. A promote that
 * loses the race with the worker (the job already runs) changes nothing. Returns the cancel, or
 * nothing when there is nothing to do; `settled` is called once the promotion is done or dropped.
 */
function promoteWhenDue(
  job: Job,
  delayMs: number,
  wake: Promise<boolean> | undefined,
  settled: () => void,
): (() => void) | undefined {
  const timed = delayMs < PROMOTE_UP_TO_MS;
  if (!timed && !wake) return undefined;
  let open = true;
  let timer: NodeJS.Timeout | undefined;
  const finish = (promote: boolean) => {
    if (!open) return;
    open = false;
    clearTimeout(timer);
    settled();
    if (promote) void job.promote().catch(() => undefined);
  };
  if (timed) {
    timer = setTimeout(() => finish(true), delayMs);
    timer.unref();
  }
  // A watch that cannot tell (false) leaves the delay to the timer, or to Redis.
  void wake?.then(
    (now) => (now ? finish(true) : timed ? undefined : finish(false)),
    () => (timed ? undefined : finish(false)),
  );
  return () => finish(false);
}

/**
 * BullMQ processor for the `rotations` queue. The job carries only the run id; a step that must
 * wait re-queues the job delayed instead of sleeping in the worker. When the step also watches for
 * what it waits for (a rollout), the delayed job is promoted the moment that happens; the delay
 * stays as the fallback poll. Either way this process promotes it when due, not Redis's timeout.
 */
export function createRotationProcessor(engine: RotationEngine) {
  /** Per job, the promotion of its last wait: a job that runs again (woken, or promoted by a click) drops it. */
  const pending = new Map<string, () => void>();
  return async (job: Job<RotationJobData>, token?: string): Promise<string> => {
    const key = job.id ?? job.data.runId;
    pending.get(key)?.();
    pending.delete(key);
    try {
      const result = await engine.advance(job.data.runId);
      if (result.kind === 'wait') {
        await job.moveToDelayed(Date.now() + result.delayMs, token);
        const cancel = promoteWhenDue(job, result.delayMs, result.wake, () => {
          if (pending.get(key) === cancel) pending.delete(key);
        });
        if (cancel) pending.set(key, cancel);
        throw new DelayedError();
      }
      return result.run.outcome ?? 'succeeded';
    } catch (e) {
      if (isRotatorError(e) && PERMANENT.has(e.code)) throw new UnrecoverableError(e.message);
      throw e;
    }
  };
}
