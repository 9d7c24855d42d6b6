import type { ApprovalRequest, DecideResult } from '../src/slack/approvals';
import { mention } from '../src/slack/views';
import { closeApprovedPlan } from './approval-close';
import { slackIdentity, type CommandDeps } from './deps';
import { closePlan, planMessageOf } from '../src/slack/plan-message';
import { noticeToClicker, type ButtonArgs } from './button';

/**
 * Checks that `user` may decide this request; when not, audits the refusal and returns who may
 * (as mentions), for the caller's answer.
 */
export async function notAnApprover(
  deps: CommandDeps,
  user: string,
  request: ApprovalRequest,
  verb: 'approve' | 'reject',
): Promise<string | undefined> {
  const spec = deps.requests.spec(request.credential);
  const allowed = await deps.authorization.canApprove(user, spec.approvers);
  if (allowed.allowed) return undefined;
  await deps.audit.record({
    credential: request.credential,
    action: 'approval.refused',
    outcome: 'refused',
    identity: slackIdentity(user),
    detail: `${verb} request ${request.id}: not an approver`,
  });
  return allowed.who.map(mention).join(', ');
}

/** Answers a decision that did not go through: expired (closes the plan), already decided, self. */
export async function refusal(
  deps: CommandDeps,
  a: ButtonArgs,
  result: Exclude<DecideResult, { ok: true }>,
  verb: 'approve' | 'reject',
): Promise<void> {
  const user = a.body.user.id;
  const reply = noticeToClicker(a);
  if (result.reason === 'not_found')
    return reply('This request is unknown or too old. Run `/rotate <name>` again.');
  const { request } = result;
  await deps.audit.record({
    credential: request.credential,
    action: `approval.refused`,
    outcome: 'refused',
    identity: slackIdentity(user),
    detail: `${verb} request ${request.id}: ${result.reason}`,
  });
  if (result.reason === 'expired') {
    const clicked = { channel: a.body.channel?.id, ts: a.body.message?.ts, blocks: a.body.message?.blocks };
    await closePlan(
      a.client,
      planMessageOf(request, clicked),
      '⌛ This approval request expired. Nothing was started.',
    );
    return reply(
      `This request expired at ${request.expiresAt}. Run \`/rotate ${request.credential}\` again.`,
    );
  }
  if (result.reason === 'self_approval')
    return reply('You requested this rotation, so someone else must approve it.');
  const by = request.decidedBy ? ` by ${mention(request.decidedBy)}` : '';
  return reply(`This request was already ${request.state}${by}.`);
}

/** The Approve button: authorization, then exactly-once start of the run, then the plan closes. */
export function approveAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const id = a.action.value ?? '';
    const reply = noticeToClicker(a);
    const request = await deps.approvals.get(id);
    if (!request) return refusal(deps, a, { ok: false, reason: 'not_found' }, 'approve');
    const spec = deps.requests.spec(request.credential);
    if (request.requester !== user) {
      const who = await notAnApprover(deps, user, request, 'approve');
      if (who) return reply(`Only ${who} may approve rotations of \`${spec.name}\`.`);
    }
    const result = await deps.approvals.decide(id, 'approved', user);
    if (!result.ok) return refusal(deps, a, result, 'approve');

    let runId: string;
    try {
      await deps.audit.record({
        credential: request.credential,
        action: 'approval.granted',
        outcome: 'succeeded',
        identity: slackIdentity(user),
        detail: `request ${id} by ${slackIdentity(request.requester)}`,
      });
      const plan = planMessageOf(result.request, { channel: a.body.channel?.id, ts: a.body.message?.ts });
      const run = await deps.requests.start({
        credential: request.credential,
        requester: { kind: 'slack', id: request.requester },
        approver: { kind: 'slack', id: user },
        slack: { channel: plan.channel, ...(plan.ts ? { threadTs: plan.ts } : {}) },
      });
      runId = run.id;
    } catch (e) {
      // Nothing was started: put the request back so it can be approved again.
      const reopened = await deps.approvals.reopen(id, user).catch(() => false);
      deps.logger.warn({ requestId: id, reopened }, 'approved request could not start a run');
      throw e;
    }
    const clicked = { channel: a.body.channel?.id, ts: a.body.message?.ts, blocks: a.body.message?.blocks };
    await closeApprovedPlan(deps, a, {
      requestId: id,
      credential: request.credential,
      runId,
      plan: planMessageOf(result.request, clicked),
      line: `✓ Approved by ${mention(user)} — run \`${runId}\` started; progress in the thread.`,
    });
  };
}
