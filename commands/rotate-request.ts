import type { WebClient } from '@slack/web-api';
import { RotatorError } from '../src/domain/errors';
import { describeSlackFailure, slackFailureOf } from '../src/slack/slack-errors';
import { mention, noticeView, planView, type View } from '../src/slack/views';
import { slackIdentity, type AnswerDeps } from './deps';

export interface Requester {
  user: string;
  channel: string;
  reply: (view: View) => Promise<void>;
}

/** `/rotate plan <name>`: the plan as a dry run, to the requester only. */
export async function dryRun(deps: AnswerDeps, who: Requester, name: string): Promise<void> {
  const spec = deps.requests.spec(name);
  const plan = await deps.requests.plan(name);
  await who.reply(planView({ plan, approvers: deps.authorization.approversFor(spec.approvers) }));
}

/**
 * `/rotate <name>`: a plan message in the channel with Approve/Reject. The request is stored (and
 * audited) before the message is posted, so a button can never point at nothing.
 */
export async function requestRotation(deps: AnswerDeps, client: WebClient, who: Requester, name: string) {
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
  let ts: string | undefined;
  try {
    ts = (await client.chat.postMessage({ channel: who.channel, text: view.text, blocks: view.blocks })).ts;
    if (!ts)
      throw new RotatorError('internal', `Slack did not return the plan message's ts in ${who.channel}`);
  } catch (e) {
    return planNotPosted(deps, who, name, id, e);
  }
  await deps.approvals.attachMessage(id, ts, view.blocks);
  await deps.scheduleExpiry?.(id, Date.parse(expiresAt));
}

/**
 * The plan could not be posted (the bot is not in the channel, it is archived, Slack is limiting
 * us): nobody can see the buttons, so the request is withdrawn and audited rather than left
 * pending without a plan or an expiry, and the requester is told what to do about it.
 */
async function planNotPosted(deps: AnswerDeps, who: Requester, name: string, id: string, e: unknown) {
  const failure = slackFailureOf(e);
  await deps.approvals.withdraw(id);
  await deps.audit.record({
    credential: name,
    action: 'approval.withdrawn',
    outcome: 'failed',
    identity: slackIdentity(who.user),
    detail: `request ${id}: plan not posted in ${who.channel} (${failure?.code ?? 'error'})`,
  });
  if (!failure) throw e;
  const why = describeSlackFailure(failure, who.channel);
  return who.reply(noticeView(`:warning: ${why} Nothing was started for \`${name}\`.`));
}
