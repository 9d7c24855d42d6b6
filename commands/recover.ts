import { isRotatorError } from '../src/domain/errors';
import { closePlan } from '../src/slack/plan-message';
import { replyEphemeral } from '../src/slack/reply';
import { mention, noticeView, parseRecoverValue } from '../src/slack/views';
import { slackIdentity, type CommandDeps } from './deps';
import { type ButtonArgs } from './button';

const VERB = { resume: 'resume', rollback: 'roll back' } as const;

/**
 * The reconciler report's Resume and Roll back buttons: approvers only; the run starts from what
 * Vault holds, and only while Vault is still at the version the report showed.
 */
export function recoverAction(deps: CommandDeps, mode: 'resume' | 'rollback') {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const channel = a.body.channel?.id ?? '';
    const reply = (text: string) => replyEphemeral(a.client, { channel, user }, noticeView(text));
    const target = parseRecoverValue(a.action.value);
    if (!target)
      return reply('This button does not name a credential and version. Wait for the next report.');
    const spec = deps.requests.spec(target.credential);
    const allowed = await deps.authorization.canApprove(user, spec.approvers);
    if (!allowed.allowed) {
      await deps.audit.record({
        credential: spec.name,
        action: `recover.refused`,
        outcome: 'refused',
        identity: slackIdentity(user),
        detail: `${mode} of version ${target.version}: not an approver`,
      });
      return reply(`Only ${allowed.who.map(mention).join(', ')} may ${VERB[mode]} \`${spec.name}\`.`);
    }
    let runId: string;
    try {
      const run = await deps.requests.recover({
        credential: spec.name,
        mode,
        expectedVersion: target.version,
        requester: { kind: 'slack', id: user },
        ...(a.body.message?.ts ? { slack: { channel, threadTs: a.body.message.ts } } : {}),
      });
      runId = run.id;
    } catch (e) {
      if (
        isRotatorError(e) &&
        (e.code === 'store_conflict' || e.code === 'locked' || e.code === 'store_missing')
      )
        return reply(`Nothing was started: ${e.message}.`);
      throw e;
    }
    const line =
      mode === 'resume'
        ? `▶ Resume started by ${mention(user)} — run \`${runId}\`; progress in the thread.`
        : `↩ Roll back started by ${mention(user)} — run \`${runId}\`; progress in the thread.`;
    await closePlan(a.client, { channel, ts: a.body.message?.ts, blocks: a.body.message?.blocks }, line);
  };
}
