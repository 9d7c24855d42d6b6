import { closePlan } from '../src/slack/plan-message';
import { replyEphemeral } from '../src/slack/reply';
import { mention, noticeView, reviewedLine } from '../src/slack/views';
import { slackIdentity, type CommandDeps } from './deps';
import { type ButtonArgs } from './button';

/**
 * **Reviewed** on an emergency's summary in the security channel. The review stands in for the
 * approval the emergency skipped, so the same people may give it: the credential's approvers (else
 * the global ones), and never the responder who started the run. Recorded once and audited.
 */
export function emergencyReviewAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const channel = a.body.channel?.id ?? '';
    const reply = (text: string) => replyEphemeral(a.client, { channel, user }, noticeView(text));
    const run = await deps.requests.getRun(a.action.value ?? '');
    if (!run || run.procedure !== 'emergency') return reply('This button names no emergency run I know.');
    const approvers = deps.requests.credentialNames().includes(run.credential)
      ? deps.requests.spec(run.credential).approvers
      : undefined;
    const refuse = async (why: string, text: string) => {
      await deps.audit.record({
        runId: run.id,
        credential: run.credential,
        action: 'emergency.review_refused',
        outcome: 'refused',
        identity: slackIdentity(user),
        detail: why,
      });
      return reply(text);
    };
    if (run.requester.kind === 'slack' && run.requester.id === user)
      return refuse('started the run', 'You started this emergency, so someone else reviews it.');
    const allowed = await deps.authorization.canApprove(user, approvers);
    if (!allowed.allowed)
      return refuse(
        'not an approver',
        `Only ${allowed.who.map(mention).join(', ') || 'an approver'} may review emergency rotations of \`${run.credential}\`.`,
      );
    const claim = await deps.reviews.claim(run.id, user);
    const message = { channel, ts: a.body.message?.ts, blocks: a.body.message?.blocks };
    if (!claim.ok) {
      await closePlan(a.client, message, reviewedLine(claim.review.by, claim.review.at));
      return reply(`Already reviewed by ${mention(claim.review.by)} at ${claim.review.at}.`);
    }
    try {
      await deps.audit.record({
        runId: run.id,
        credential: run.credential,
        action: 'emergency.reviewed',
        outcome: 'succeeded',
        identity: slackIdentity(user),
        detail: `expedited change ${run.incident?.ref ?? ''} reviewed at ${claim.review.at}`,
        time: claim.review.at,
      });
    } catch (e) {
      // Fail-closed: a review nobody can find in the audit trail did not happen.
      await deps.reviews.release(run.id, claim.review).catch(() => undefined);
      throw e;
    }
    await closePlan(a.client, message, reviewedLine(user, claim.review.at));
  };
}
