import { mention } from '../src/slack/views';
import { slackIdentity, type CommandDeps } from './deps';
import { noticeToClicker, type ButtonArgs } from './button';

/**
 * `/rotate status`'s **Reactivate old key**: approvers only, audited either way. The reactivation
 * itself is a maintenance job (commands never call an issuer); the deletion is called off there.
 */
export function reactivateOldKeyAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    await a.ack();
    const user = a.body.user.id;
    const reply = noticeToClicker(a);
    const run = await deps.requests.getRun(a.action.value ?? '');
    const keyId = run?.facts.oldKeyId;
    if (!run || !keyId || !run.facts.oldKeyDeactivatedAt)
      return reply('This button names no deactivated key. Run `/rotate status <name>` again.');
    const spec = deps.requests.spec(run.credential);
    const allowed = await deps.authorization.canApprove(user, spec.approvers);
    const entry = { runId: run.id, credential: spec.name, identity: slackIdentity(user), step: 'revoke-old' };
    if (!allowed.allowed) {
      await deps.audit.record({
        ...entry,
        action: 'old_key.reactivate',
        outcome: 'refused',
        detail: `reactivation of old key ${keyId}: not an approver`,
      });
      return reply(
        `Only ${allowed.who.map(mention).join(', ')} may reactivate old keys of \`${spec.name}\`.`,
      );
    }
    if (run.facts.oldKeyDeletedAt) return reply(`Old key \`${keyId}\` was already deleted.`);
    if (!deps.reactivateOldKey) return reply('This bot cannot reactivate keys (no maintenance queue).');
    await deps.audit.record({
      ...entry,
      action: 'old_key.reactivate_requested',
      outcome: 'info',
      detail: `reactivation of old key ${keyId} requested`,
    });
    await deps.reactivateOldKey(run.id, slackIdentity(user));
    return reply(
      `Reactivating old key \`${keyId}\` of \`${spec.name}\`; its deletion is called off. \`/rotate status ${spec.name}\` shows when it is done.`,
    );
  };
}
