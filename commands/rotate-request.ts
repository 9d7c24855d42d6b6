import type { WebClient } from '@slack/web-api';
import { RotatorError } from '../src/domain/errors';
import { mention, noticeView, planView, type View } from '../src/slack/views';
import { slackIdentity, type CommandDeps } from './deps';

export interface Requester {
  user: string;
  channel: string;
  reply: (view: View) => Promise<void>;
}

/** `/rotate plan <name>`: the plan as a dry run, to the requester only. */
export async function dryRun(deps: CommandDeps, who: Requester, name: string): Promise<void> {
  const spec = deps.requests.spec(name);
  const plan = await deps.requests.plan(name);
  await who.reply(planView({ plan, approvers: deps.authorization.approversFor(spec.approvers) }));
}

/**
 * `/rotate <name>`: a plan message in the channel with Approve/Reject. The request is stored (and
 * audited) before the message is posted, so a button can never point at nothing.
 */
export async function requestRotation(deps: CommandDeps, client: WebClient, who: Requester, name: string) {
  const allowed = await deps.authorization.canRequest(who.user);
  if (!allowed.allowed) {
    await deps.audit.record({
      credential: name,
      action: 'request.refused',
      outcome: 'refused',
      identity: slackIdentity(who.user),
      detail: 'not a requester',
    });
    const list = allowed.who.map(mention).join(', ');
    return who.reply(noticeView(`You may not request rotations. Ask one of: ${list}.`));
  }
  const spec = deps.requests.spec(name);
  const plan = await deps.requests.plan(name);
  const id = await deps.approvals.createRequest({
    credential: name,
    requester: who.user,
    channel: who.channel,
  });
  await deps.audit.record({
    credential: name,
    action: 'approval.requested',
    outcome: 'info',
    identity: slackIdentity(who.user),
    detail: `request ${id}`,
  });
  const expiresAt = new Date(deps.now().getTime() + deps.approvals.ttlMs).toISOString();
  const view = planView({
    plan,
    approvers: deps.authorization.approversFor(spec.approvers),
    requester: who.user,
    requestId: id,
    expiresAt,
  });
  const posted = await client.chat.postMessage({
    channel: who.channel,
    text: view.text,
    blocks: view.blocks,
  });
  if (!posted.ts)
    throw new RotatorError('internal', `Slack did not return the plan message's ts in ${who.channel}`);
  await deps.approvals.attachMessage(id, posted.ts, view.blocks);
  await deps.scheduleExpiry?.(id, Date.parse(expiresAt));
}
