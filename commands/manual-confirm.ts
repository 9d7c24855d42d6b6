import { isRotatorError } from '../src/domain/errors';
import type { ManualAction } from '../src/queue/manual-confirmations';
import { slackIdentity, type CommandDeps } from './deps';
import { noticeToClicker, type ButtonArgs } from './button';

const DONE: Record<ManualAction, string> = {
  stored: 'Vault has a new version: the run deploys and verifies it now. Progress is in the message above.',
  revoked: 'Thanks: the run checks the old key is rejected, then records the rotation.',
};

/**
 * A manual run's Stored / Revoked button. The answer is the bot's own text only: nothing a person
 * typed (a value pasted in the thread included) is ever repeated.
 */
export function manualConfirmAction(deps: CommandDeps, action: ManualAction) {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const reply = noticeToClicker(a);
    if (!deps.manual) return reply('Manual rotations are not enabled in this deployment.');
    try {
      await deps.manual.confirm({
        runId: a.action.value ?? '',
        action,
        identity: slackIdentity(user),
        allowed: async (run, spec) =>
          (run.requester.kind === 'slack' && run.requester.id === user) ||
          run.approver?.id === user ||
          (await deps.authorization.canApprove(user, spec?.approvers)).allowed,
      });
    } catch (e) {
      if (isRotatorError(e) && (e.code === 'not_allowed' || e.code === 'store_conflict'))
        return reply(`Refused: ${e.message}.`);
      throw e;
    }
    return reply(DONE[action]);
  };
}
