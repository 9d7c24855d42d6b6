import type { Job } from 'bullmq';
import {
  CHANNEL_POST_JOB,
  OUTBOX_RESUME_JOB,
  RUN_PROGRESS_JOB,
  type ChannelPostJobData,
  type IncidentBoardJobData,
  type NotificationJobData,
  type RunProgressJobData,
} from '../src/queue/names';
import type { ChannelOutbox } from '../src/slack/channel-outbox';
import type { IncidentBoard } from '../src/slack/incident-board';
import type { RunProgress } from '../src/slack/run-progress';

/**
 * Renders an incident's message. A Slack failure throws, so BullMQ retries the job (a render
 * reads the newest state, so a retry is never stale).
 */
export function createIncidentBoardProcessor(board: IncidentBoard) {
  return async (job: Job<IncidentBoardJobData>): Promise<string> => board.render(job.data.ref);
}

/**
 * The notifications queue: incident message renders, run progress renders, channel outbox
 * drains and the outbox's resume tick. None of them sleeps: a busy slot defers the job (a BullMQ delay).
 */
export function createNotificationsProcessor(
  board: IncidentBoard,
  outbox: ChannelOutbox,
  progress?: RunProgress,
) {
  const render = createIncidentBoardProcessor(board);
  return async (job: Job<NotificationJobData>): Promise<string> => {
    if (job.name === OUTBOX_RESUME_JOB) return `resumed ${(await outbox.resume()).length}`;
    if (job.name === CHANNEL_POST_JOB) return outbox.drain((job.data as ChannelPostJobData).channel);
    if (job.name === RUN_PROGRESS_JOB) {
      if (!progress) throw new Error('this worker renders no run progress');
      return progress.render((job.data as RunProgressJobData).runId);
    }
    return render(job as Job<IncidentBoardJobData>);
  };
}
