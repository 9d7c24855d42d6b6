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

export const isUserGroupId = (id: string): boolean => /^S[A-Z0-9]+$/.test(id);
