import type { ManualAsk, Run } from '../../domain/run';
import { esc, plain, section, type SlackBlock } from './blocks';

export const MANUAL_STORED_ACTION = 'manual_stored';
export const MANUAL_REVOKED_ACTION = 'manual_revoked';

/**
 * What a parked manual run asks of people, under its progress checklist: the console steps, the
 * exact Vault command (placeholders only, never a value) and the one button that says it is done.
 */
export function manualAskBlocks(run: Run, ask: ManualAsk): SlackBlock[] {
  const steps = ask.checklist.map((s, i) => `${i + 1}. ${esc(s)}`).join('\n');
  const where = ask.consoleUrl ? ` at <${ask.consoleUrl}|the console>` : '';
  const blocks: SlackBlock[] = [];
  if (ask.awaiting === 'stored') {
    blocks.push(section(`*Your turn${where}:*\n${steps}`));
    if (ask.command)
      blocks.push(
        section(
          `*Then write it to Vault yourself* (never paste it here):\n\`\`\`${ask.command}\`\`\`\nand click *Stored*: the bot checks Vault has a new version, then deploys and verifies it.`,
        ),
      );
  } else {
    blocks.push(section(`*The new key is deployed and verified. Your turn${where}:*\n${steps}`));
  }
  if (ask.refusal) blocks.push(section(`:warning: ${esc(ask.refusal)}`));
  const stored = ask.awaiting === 'stored';
  blocks.push({
    type: 'actions',
    elements: [
      {
        type: 'button',
        action_id: stored ? MANUAL_STORED_ACTION : MANUAL_REVOKED_ACTION,
        text: plain(stored ? 'Stored' : 'Revoked'),
        style: 'primary',
        value: run.id,
      },
    ],
  });
  return blocks;
}
