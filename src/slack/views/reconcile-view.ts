import type { HalfRotated } from '../../domain/half-rotated';
import { context, esc, header, section, type ButtonElement, type SlackBlock, type View } from './blocks';

export const RESUME_ACTION = 'recover_resume';
export const ROLLBACK_ACTION = 'recover_rollback';

/** What a Resume / Roll back button carries: the credential and the Vault version it was shown. */
export const recoverValue = (credential: string, version: number): string => `${credential}@${version}`;

export function parseRecoverValue(
  value: string | undefined,
): { credential: string; version: number } | undefined {
  const m = /^([a-z0-9][a-z0-9-]{1,62})@(\d{1,9})$/.exec(value ?? '');
  return m ? { credential: m[1]!, version: Number(m[2]) } : undefined;
}

function runLine(f: HalfRotated): string {
  if (!f.runId)
    return 'No run marker on this version: it was written outside the bot or by an older version of it.';
  if (f.runState === 'unknown')
    return `Run \`${esc(f.runId)}\` wrote it, and Redis no longer knows that run (Redis lost its data, or the record expired).`;
  return `Run \`${esc(f.runId)}\` wrote it and ended as *${esc(f.runState)}* without finishing the rotation.`;
}

/**
 * The reconciler's report of a half-rotated credential: what Vault holds, what the issuer says of
 * the old key, and Resume / Roll back for approvers. Ids and versions only, never a value.
 */
export function halfRotatedView(f: HalfRotated): View {
  const old = f.oldKeyId
    ? `old key \`${esc(f.oldKeyId)}\` is *${f.oldKeyStatus ?? 'of unknown status'}* at the issuer`
    : 'the old key id is not recorded';
  const buttons: ButtonElement[] = [
    {
      type: 'button',
      action_id: RESUME_ACTION,
      text: { type: 'plain_text', text: 'Resume' },
      style: 'primary',
      value: recoverValue(f.credential, f.version),
    },
  ];
  if (f.canRollBack) {
    buttons.push({
      type: 'button',
      action_id: ROLLBACK_ACTION,
      text: { type: 'plain_text', text: 'Roll back' },
      style: 'danger',
      value: recoverValue(f.credential, f.version),
      confirm: {
        title: { type: 'plain_text', text: 'Roll back?' },
        text: {
          type: 'mrkdwn',
          text: `Vault gets the previous key back, every consumer is redeployed onto it, and new key \`${esc(f.newKeyId ?? '?')}\` is revoked.`,
        },
        confirm: { type: 'plain_text', text: 'Roll back' },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    });
  }
  const blocks: SlackBlock[] = [
    header(`⚠ Half-rotated: ${f.credential}`),
    section(
      `Vault (version ${f.version}${f.rotatedAt ? `, rotated ${esc(f.rotatedAt)}` : ''}${f.rotatedBy ? ` by ${esc(f.rotatedBy)}` : ''}) holds new key \`${esc(f.newKeyId ?? '?')}\` and still keeps the previous one; ${old}. No run is finishing this rotation, so consumers may be on either key.`,
    ),
    section(runLine(f)),
    section(
      `*Resume* deploys what Vault holds, verifies every consumer and revokes the old key.${f.canRollBack ? ' *Roll back* restores the previous key everywhere and revokes the new one.' : ' Rolling back is not offered: the old key no longer works.'} Approvers only.`,
    ),
    { type: 'actions', block_id: 'recover', elements: buttons },
    context('Reported by the reconciler: Vault is the source of truth, Redis a cache of progress.'),
  ];
  return {
    text: `Half-rotated: ${f.credential} (Vault version ${f.version}) — no run is finishing it`,
    blocks,
  };
}
