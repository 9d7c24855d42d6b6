import { mention } from '../src/slack/views';
import { notAnApprover, refusal } from './approve';
import { slackIdentity, type CommandDeps } from './deps';
import { closePlan, planMessageOf } from '../src/slack/plan-message';
import { noticeToClicker, type ButtonArgs } from './button';

/** The Reject button: the requester (withdrawing) or an approver; asks nothing more, closes the plan. */
export function rejectAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const id = a.action.value ?? '';
    const request = await deps.approvals.get(id);
    if (!request) return refusal(deps, a, { ok: false, reason: 'not_found' }, 'reject');
    if (request.requester !== user) {
      const who = await notAnApprover(deps, user, request, 'reject');
      if (who) {
        const text = `Only the requester or ${who} may reject this request.`;
        return noticeToClicker(a)(text);
      }
    }
    const result = await deps.approvals.decide(id, 'rejected', user);
    if (!result.ok) return refusal(deps, a, result, 'reject');
    await deps.audit.record({
      credential: request.credential,
      action: 'approval.rejected',
      outcome: 'refused',
      identity: slackIdentity(user),
      detail: `request ${id} by ${slackIdentity(request.requester)}`,
    });
    const clicked = { channel: a.body.channel?.id, ts: a.body.message?.ts, blocks: a.body.message?.blocks };
    await closePlan(
      a.client,
      planMessageOf(result.request, clicked),
      `✗ Rejected by ${mention(user)}. Nothing was started.`,
    );
  };
}
