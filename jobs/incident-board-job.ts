import type { Job } from 'bullmq';
import { CHANNEL_POST_JOB, type ChannelPostJobData, type IncidentBoardJobData } from '../src/queue/names';
import type { ChannelOutbox } from '../src/slack/channel-outbox';
import type { IncidentBoard } from '../src/slack/incident-board';

/**
 * Renders an incident's message. A Slack failure throws, so BullMQ retries the job (a render
 * reads the newest state, so a retry is never stale).
 */
export function createIncidentBoardProcessor(board: IncidentBoard) {
  return async (job: Job<IncidentBoardJobData>): Promise<string> => board.render(job.data.ref);
}

/** The notifications queue: incident message renders and channel outbox drains. */
export function createNotificationsProcessor(board: IncidentBoard, outbox: ChannelOutbox) {
  const render = createIncidentBoardProcessor(board);
  return async (job: Job<IncidentBoardJobData | ChannelPostJobData>): Promise<string> =>
    job.name === CHANNEL_POST_JOB
      ? outbox.drain((job.data as ChannelPostJobData).channel)
      : render(job as Job<IncidentBoardJobData>);
}
