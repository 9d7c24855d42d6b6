import type { Queue } from 'bullmq';
import { RotatorError } from '../domain/errors';
import type { EphemeralTarget } from './reply';

/**
 * The slow part of `/rotate` (plans, requests, status, history, digests, incident timelines),
 * answered by a worker: the web role only acks and enqueues, so a burst of plans never keeps its
 * event loop from reading and acking the next command.
 */
export const SLACK_REQUESTS_QUEUE = 'slack-requests';

/**
 * One `/rotate` as Slack sent it (or a digest's Rotate now, as the `/rotate <name>` it stands
 * for). The response_url is a capability to answer this one command (valid 30 minutes, five uses)
 * and is the only sensitive field: acceptable in job data, which is removed once the job finishes.
 * No token or credential value is ever in here.
 */
export interface RotateRequest {
  kind: 'rotate';
  text: string;
  user: string;
  channel: string;
  channelName?: string;
  /** Absent for a button's click: the answer is then a chat.postEphemeral to the clicker. */
  responseUrl?: string;
}

/** A Home tab opened: the dashboard (Vault and the cluster read) published for `user`. */
export interface HomeRequest {
  kind: 'home';
  user: string;
  /** The app's DM channel with the user, where an error is told. */
  channel: string;
}

export type SlackRequestJobData = RotateRequest | HomeRequest;

/** Where a worker answers the person who typed the command. */
export const targetOfRequest = (r: SlackRequestJobData): EphemeralTarget => ({
  channel: r.channel,
  user: r.user,
  ...(r.kind === 'rotate' && r.responseUrl ? { responseUrl: r.responseUrl } : {}),
});

/** Queue options: one attempt (a retried plan would post twice), nothing kept once finished. */
export const SLACK_REQUEST_JOB_OPTIONS = { attempts: 1, removeOnComplete: true, removeOnFail: true } as const;

/**
 * Adds the request to the queue; a queue that cannot take it is a `queue_unavailable` error, which
 * the app's error handler tells the user at once.
 */
export function slackRequestEnqueuer(queue: Queue<SlackRequestJobData>) {
  return async (request: SlackRequestJobData): Promise<void> => {
    try {
      await queue.add(request.kind, request, SLACK_REQUEST_JOB_OPTIONS);
    } catch (e) {
      // Redis's own words ("Connection is closed", "OOM ...") for the log: they never hold job data.
      throw new RotatorError('queue_unavailable', 'the request queue is unavailable: nothing was started', {
        transient: true,
        context: { cause: (e as Error).message },
      });
    }
  };
}
