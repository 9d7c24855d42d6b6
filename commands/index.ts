import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { APPROVE_ACTION, REJECT_ACTION, RESUME_ACTION, ROLLBACK_ACTION } from '../src/slack/views';
import { approveAction } from './approve';
import type { CommandDeps } from './deps';
import { recoverAction } from './recover';
import { rejectAction } from './reject';
import { ROTATE_COMMAND, rotateCommand } from './rotate';

export type { CommandDeps } from './deps';

/** Registers every Slack listener; handlers live one per file. */
export function register(app: App, deps: CommandDeps): void {
  app.command(ROTATE_COMMAND, rotateCommand(deps));
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, approveAction(deps));
  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, rejectAction(deps));
  app.action<BlockAction<ButtonAction>>(RESUME_ACTION, recoverAction(deps, 'resume'));
  app.action<BlockAction<ButtonAction>>(ROLLBACK_ACTION, recoverAction(deps, 'rollback'));
}
