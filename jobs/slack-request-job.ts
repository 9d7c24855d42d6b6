import type { Job } from 'bullmq';
import type { SlackRequestJobData } from '../src/slack/slack-requests';

export interface SlackRequestJobDeps {
  /** The `/rotate` logic (commands/rotate-answer.ts), wired by main.ts. */
  answer: (request: SlackRequestJobData) => Promise<void>;
  /** Tells the requester what went wrong, as the web role's error handler would have. */
  tell: (request: SlackRequestJobData, error: unknown) => Promise<void>;
}

/**
 * Answers one `/rotate` the web role acked and queued. A failure is told to the requester, then
 * fails the job (its one attempt: a plan retried minutes later would surprise the person who asked).
 */
export function createSlackRequestProcessor(deps: SlackRequestJobDeps) {
  return async (job: Job<SlackRequestJobData>): Promise<void> => {
    try {
      await deps.answer(job.data);
    } catch (e) {
      await deps.tell(job.data, e);
      throw e;
    }
  };
}
