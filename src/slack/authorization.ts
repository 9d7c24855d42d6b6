import type { WebClient } from '@slack/web-api';
import { isUserGroupId, ownersOf, type AccessPolicy } from '../domain/access';
import { RotatorError } from '../domain/errors';

/** Allowed, or not and who is (user and group ids, for "ask one of …"). */
export type Decision = { allowed: true } | { allowed: false; who: string[] };

/** Members of a Slack user group (S…). */
export type GroupMembers = (groupId: string) => Promise<string[]>;

/** usergroups.users.list through the Web API (scope usergroups:read). */
export function slackGroupMembers(client: WebClient): GroupMembers {
  return async (usergroup) => {
    const res = await client.usergroups.users.list({ usergroup });
    return res.users ?? [];
  };
}

export interface AuthorizationOptions {
  access: AccessPolicy;
  groups: GroupMembers;
  /** How long a group's membership is trusted (default 60 s). */
  cacheMs?: number;
  now?: () => number;
}

/**
 * Who may request, approve and respond, from the AccessPolicy: user ids and user-group ids. A
 * credential's own approvers replace the global approvers. Fails closed: a group that cannot be
 * read grants nothing, and the refusal says so instead of pretending the user is not listed.
 */
export class Authorization {
  private readonly cache = new Map<string, { at: number; members: Promise<string[]> }>();
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: AuthorizationOptions) {
    this.cacheMs = opts.cacheMs ?? 60_000;
    this.now = opts.now ?? Date.now;
  }

  get policy(): AccessPolicy {
    return this.opts.access;
  }

  /** The approvers that apply to a credential: its own, else the global ones. */
  approversFor(credentialApprovers: string[] | undefined): string[] {
    return credentialApprovers && credentialApprovers.length
      ? credentialApprovers
      : this.opts.access.approvers;
  }

  /** Requesters: an empty list means anyone in the workspace. */
  canRequest(user: string): Promise<Decision> {
    const list = this.opts.access.requesters;
    return list.length === 0 ? Promise.resolve({ allowed: true }) : this.check(user, list);
  }

  canApprove(user: string, credentialApprovers?: string[]): Promise<Decision> {
    return this.check(user, this.approversFor(credentialApprovers));
  }

  /** Owners of a credential (its approvers, else the global ones, and a Slack-id contact): Snooze. */
  canSnooze(user: string, credential: { approvers: string[]; contact: string }): Promise<Decision> {
    return this.check(user, ownersOf(credential, this.opts.access.approvers));
  }

  canRespond(user: string): Promise<Decision> {
    return this.check(user, this.opts.access.responders);
  }

  private async check(user: string, list: string[]): Promise<Decision> {
    if (list.includes(user)) return { allowed: true };
    let unreadable: string | undefined;
    for (const id of list.filter(isUserGroupId)) {
      try {
        if ((await this.members(id)).includes(user)) return { allowed: true };
      } catch {
        unreadable = id;
      }
    }
    if (unreadable) {
      throw new RotatorError(
        'not_allowed',
        `could not read the members of user group ${unreadable}; try again`,
        {
          context: { group: unreadable },
          transient: true,
        },
      );
    }
    return { allowed: false, who: list };
  }

  private members(group: string): Promise<string[]> {
    const hit = this.cache.get(group);
    if (hit && this.now() - hit.at < this.cacheMs) return hit.members;
    const members = this.opts.groups(group);
    this.cache.set(group, { at: this.now(), members });
    members.catch(() => this.cache.delete(group));
    return members;
  }
}
