/**
 * Who may do what, as Slack user ids (U…/W…) and user-group ids (S…). Loaded from the catalog's
 * `access` section; a credential's own `approvers` replace the global approvers for it.
 */
export interface AccessPolicy {
  /** Empty: anyone in the workspace may request a scheduled rotation. */
  requesters: string[];
  approvers: string[];
  /** May start emergency rotations (no approval gate). */
  responders: string[];
}

/**
 * The one grammar of the ids the catalog lists and the access checks read: Slack's user ids (U…,
 * W… on Enterprise Grid) and user-group ids (S…) are upper-case letters and digits, never `_`.
 * The catalog validates with it and `isUserGroupId` classifies with it, so an id the catalog
 * accepts is always either a user or a group the check can resolve (S_SECURITY was neither).
 */
export const SLACK_ID = /^[USW][A-Z0-9]+$/;

export const SLACK_ID_DESCRIPTION =
  'a Slack user (U…/W…) or user-group (S…) id: upper-case letters and digits, e.g. U024BE7LH or S0614TZR7';

export const isUserGroupId = (id: string): boolean => SLACK_ID.test(id) && id.startsWith('S');

/**
 * Who owns a credential, for acting on its reminders (Snooze): its approvers (else the global
 * approvers, as for approval) and its contact when the catalog gives a Slack id there rather than
 * an e-mail address.
 */
export function ownersOf(
  credential: { approvers: string[]; contact: string },
  globalApprovers: string[],
): string[] {
  const approvers = credential.approvers.length ? credential.approvers : globalApprovers;
  return SLACK_ID.test(credential.contact) && !approvers.includes(credential.contact)
    ? [...approvers, credential.contact]
    : approvers;
}
