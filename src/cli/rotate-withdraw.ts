/**
 * The break-glass CLI's withdrawal of a request no worker answered in time, on BullMQ's Queue.
 * Loaded (from a code cache when compiled) only then: it is the one part of the CLI that needs
 * BullMQ's classes.
 */
import type { Job } from 'bullmq';
import { createRedis } from '../queue/connection';
import { REQUESTS_QUEUE, type RequestJobData, type RequestResult } from '../queue/names';
import { Queue } from './bullmq-queue';
import { CLI_CONNECTION } from './cli-connection';

/** Gives up on a request: removes it if no worker took it, else returns what the worker answered. */
export async function withdraw(
  queue: Queue<RequestJobData>,
  job: Job<RequestJobData>,
): Promise<RequestResult | undefined> {
  // A finished request is answered, never removed: `remove` would take a completed one too, and the
  // rotation it started would be reported as never started.
  const answer = async () =>
    (await job.getState().catch(() => 'unknown')) === 'completed'
      ? (((await queue.getJob(job.id!).catch(() => undefined))?.returnvalue as RequestResult | undefined) ??
        undefined)
      : undefined;
  const early = await answer();
  if (early) return early;
  try {
    await job.remove();
    return undefined;
  } catch {
    // A worker holds it now (or finished it): its answer, if any, is what counts.
    return answer();
  }
}

/** `withdraw` for the request with id `jobId`, on a connection of its own. */
export async function withdrawRequest(
  url: string,
  prefix: string,
  jobId: string,
): Promise<RequestResult | undefined> {
  const connection = createRedis(url, 'request', CLI_CONNECTION);
  connection.on('error', () => undefined);
  // The workers check the Redis version; a CLI that did too would spend a round trip for nothing.
  const queue = new Queue<RequestJobData>(REQUESTS_QUEUE, { connection, prefix, skipVersionCheck: true });
  queue.on('error', () => undefined);
  try {
    const job = await queue.getJob(jobId).catch(() => undefined);
    return job ? await withdraw(queue, job) : undefined;
  } finally {
    connection.disconnect();
    await queue.close().catch(() => undefined);
  }
}
