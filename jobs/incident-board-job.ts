import type { Job } from 'bullmq';
import type { IncidentBoardJobData } from '../src/queue/names';
import type { IncidentBoard } from '../src/slack/incident-board';

/**
 * Renders an incident's message. A Slack failure throws, so BullMQ retries the job (a render
 * reads the newest state, so a retry is never stale).
 */
export function createIncidentBoardProcessor(board: IncidentBoard) {
  return async (job: Job<IncidentBoardJobData>): Promise<string> => board.render(job.data.ref);
}
