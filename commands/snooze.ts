import { mention, noticeView, slackTime } from '../src/slack/views';
import { slackIdentity, type CommandDeps } from './deps';
import { digestClick, type ButtonArgs } from './digest-buttons';

/**
 * A digest's **Snooze 7 days**: owners only (the credential's approvers, else the global ones, and
 * a Slack-id contact). Audited either way; later digests list it as snoozed by whom until when.
 */
export function snoozeAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    const { user, reply, spec } = await digestClick(deps, a);
    if (!spec) return;
    const allowed = await deps.authorization.canSnooze(user, spec);
    if (!allowed.allowed) {
      await deps.audit.record({
        credential: spec.name,
        action: 'reminder.snooze.refused',
        outcome: 'refused',
        identity: slackIdentity(user),
        detail: 'not an owner',
      });
      const who = allowed.who.map(mention).join(', ');
      return reply(noticeView(`Only the owners of \`${spec.name}\` (${who}) may snooze its reminder.`));
    }
    const snooze = await deps.reminders.snooze(spec.name, user);
    await deps.audit.record({
      credential: spec.name,
      action: 'reminder.snoozed',
      outcome: 'info',
      identity: slackIdentity(user),
      detail: `until ${snooze.until}`,
    });
    await reply(
      noticeView(
        `💤 \`${spec.name}\` snoozed until ${slackTime(snooze.until, '{date_short}')}: later digests show it as snoozed by ${mention(user)}.`,
      ),
    );
  };
}
