import { UnrecoverableError, type Job } from 'bullmq';
import { isRotatorError } from '../src/domain/errors';
import type { RotationRequests } from '../src/procedures/types';
import type { RequestJobData, RequestResult } from '../src/queue/names';

const STALE_AFTER_MS = 60_000;

/**
 * Serves the CLI: plans or starts a rotation with the worker's configuration, so the CLI needs
 * nothing but Redis. Refusals (unknown name, locked) are permanent and reach the CLI as the reason.
 */
export function createRequestProcessor(requests: RotationRequests) {
  return async (job: Job<RequestJobData>): Promise<RequestResult> => {
    // The CLI gives up after 30 s; a request older than that has nobody waiting for it.
    if (Date.now() - job.timestamp > STALE_AFTER_MS) {
      throw new UnrecoverableError('request expired before a worker took it: nothing was started');
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
