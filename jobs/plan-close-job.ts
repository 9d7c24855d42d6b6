import type { WebClient } from '@slack/web-api';
import type { Job } from 'bullmq';
import type { ApprovalExpiryJobData } from '../src/queue/names';
import type { ApprovalStore } from '../src/slack/approvals';
import { closePlan } from '../src/slack/plan-message';

/**
 * Closes the plan of an approved request after Slack refused the first close (commands/
 * approval-close.ts): replaces its buttons with the line the approver's click produced. A failure
 * throws, so BullMQ retries with backoff until Slack lets the edit through.
 */
export function createPlanCloseProcessor(deps: { approvals: ApprovalStore; client: WebClient }) {
  return async (job: Job<ApprovalExpiryJobData>): Promise<'closed' | 'gone'> => {
    const found = await deps.approvals.withPlan(job.data.requestId);
    if (!found?.request.messageTs || !job.data.line) return 'gone';
    await closePlan(
      deps.client,
      {
        channel: found.request.channel,
        ts: found.request.messageTs,
        ...(found.planBlocks ? { blocks: found.planBlocks } : {}),
      },
      job.data.line,
    );
    return 'closed';
  };
}
