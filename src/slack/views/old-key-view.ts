import type { Run } from '../../domain/run';
import { esc, section, type SlackBlock } from './blocks';

export const REACTIVATE_OLD_KEY_ACTION = 'old_key_reactivate';

const at = (iso: string): string =>
  `<!date^${Math.floor(Date.parse(iso) / 1000)}^{date_short} {time}|${iso}>`;

/** "slack:U1" → <@U1>; other identities as written. */
const by = (identity: string): string =>
  identity.startsWith('slack:') ? `<@${identity.slice(6)}>` : esc(identity);

/**
 * The old key a rotation deactivated (AWS): when it will be deleted, with **Reactivate old key**
 * for approvers; or why it was kept, or who reactivated it.
 */
export function oldKeyBlocks(run: Run): SlackBlock[] {
  const f = run.facts;
  const key = `\`${esc(f.oldKeyId ?? '?')}\``;
  if (f.oldKeyReactivated) {
    return [
      section(
        `♻️ Old key ${key} was reactivated by ${by(f.oldKeyReactivated.by)} ${at(f.oldKeyReactivated.at)} and will not be deleted: move its consumer to the new key, then rotate again.`,
      ),
    ];
  }
  if (f.oldKeyKept) return [section(`⚠️ ${esc(f.oldKeyKept)}`)];
  const when = f.oldKeyDeleteAt
    ? ` It is deleted ${at(f.oldKeyDeleteAt)}`
    : ' Its deletion is being scheduled';
  return [
    section(
      `⏳ Old key ${key} is *inactive* since ${at(f.oldKeyDeactivatedAt!)} (run \`${esc(run.id)}\`).${when}; a forgotten consumer can be rescued until then.`,
    ),
    {
      type: 'actions',
      block_id: 'old_key',
      elements: [
        {
          type: 'button',
          action_id: REACTIVATE_OLD_KEY_ACTION,
          text: { type: 'plain_text', text: 'Reactivate old key', emoji: true },
          value: run.id,
          confirm: {
            title: { type: 'plain_text', text: 'Reactivate the old key?' },
            text: {
              type: 'mrkdwn',
              text: `Key ${key} becomes valid again and is not deleted. Only for a consumer the rotation missed.`,
            },
            confirm: { type: 'plain_text', text: 'Reactivate' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    },
  ];
}
