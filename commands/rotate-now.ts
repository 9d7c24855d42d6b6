import type { CommandDeps } from './deps';
import { digestClick, type ButtonArgs } from './digest-buttons';
import { requestRotation } from './rotate-request';

/**
 * A digest's **Rotate now**: exactly `/rotate <name>` typed by the clicker in the digest's channel
 * — the plan with Approve / Reject, and the approval rules (requesters, approvers, never oneself).
 */
export function rotateNowAction(deps: CommandDeps) {
  return async (a: ButtonArgs): Promise<void> => {
    const click = await digestClick(deps, a);
    if (!click.spec) return;
    await requestRotation(deps, a.client, click, click.spec.name);
  };
}
