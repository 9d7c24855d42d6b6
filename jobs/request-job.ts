import { UnrecoverableError, type Job } from 'bullmq';
import { isRotatorError } from '../src/domain/errors';
import type { RotationRequests } from '../src/procedures/types';
import { REQUEST_MARGIN_MS, type RequestJobData, type RequestResult } from '../src/queue/names';

/**
 * Serves the CLI: plans or starts a rotation with the worker's configuration, so the CLI needs
 * nothing but Redis. Refusals (unknown name, locked) are permanent and reach the CLI as the reason.
 * A request whose CLI has given up (its deadline passed) is refused: a rotation nobody watches is
 * not what the person at the terminal asked for.
 */
export function createRequestProcessor(requests: RotationRequests, now: () => number = Date.now) {
  return async (job: Job<RequestJobData>): Promise<RequestResult> => {
    if (!(job.data.deadline > now() + REQUEST_MARGIN_MS)) {
      throw new UnrecoverableError(
        'the CLI stopped waiting before a worker took the request: nothing was started',
      );
    }
    try {
      if (job.data.kind === 'plan') return { kind: 'plan', plan: await requests.plan(job.data.credential) };
      const run = await requests.start({
        credential: job.data.credential,
        requester: { kind: 'cli', id: job.data.user, name: job.data.user },
      });
      return { kind: 'rotate', runId: run.id };
    } catch (e) {
      if (isRotatorError(e) && !e.transient) throw new UnrecoverableError(`${e.code}: ${e.message}`);
      throw e;
    }
  };
}
