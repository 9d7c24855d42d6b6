import type { WebClient } from '@slack/web-api';
import type { Job } from 'bullmq';
import type { AuditLog } from '../src/domain/ports';
import type { ApprovalExpiryJobData } from '../src/queue/names';
import type { ApprovalStore } from '../src/slack/approvals';
import { closePlan } from '../src/slack/plan-message';

/**
 * Closes a plan nobody approved or rejected in time: its buttons are replaced by "expired" (so
 * nobody clicks a dead button hours later) and the expiry is audited. A decided request is left alone.
 */
export function createApprovalExpiryProcessor(deps: {
  approvals: ApprovalStore;
  client: WebClient;
  audit: AuditLog;
}) {
  return async (job: Job<ApprovalExpiryJobData>): Promise<'expired' | 'decided'> => {
    const request = await deps.approvals.expire(job.data.requestId);
    if (!request) return 'decided';
    await deps.audit.record({
      credential: request.credential,
      action: 'approval.expired',
      outcome: 'info',
      identity: 'schedule',
      detail: `request ${request.id} by slack:${request.requester} expired at ${request.expiresAt}`,
    });
    await closePlan(
      deps.client,
      {
        channel: request.channel,
        ...(request.messageTs ? { ts: request.messageTs } : {}),
        ...(request.planBlocks ? { blocks: request.planBlocks } : {}),
      },
      '⌛ This approval request expired. Nothing was started.',
    );
    return 'expired';
  };
}
