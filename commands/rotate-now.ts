import type { CommandDeps } from './deps';
import { digestClick, type ButtonArgs } from './digest-buttons';
import { requestRotation } from './rotate-request';

/**
 * A digest's **Rotate now**: exactly `/rotate <name>` typed by the clicker in the digest's channel
 * — the plan with Approve / Reject, and the approval rules (requesters, approvers, never oneself),
 * planned by a worker as the command is.
 */
export function rotateNowAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    const click = await digestClick(deps, a);
    if (!click.spec) return;
    const name = click.spec.name;
    if (deps.enqueueRequest)
      return deps.enqueueRequest({ kind: 'rotate', text: name, user: click.user, channel: click.channel });
    await requestRotation(deps, a.client, click, name);
  };
}
