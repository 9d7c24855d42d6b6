import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { APPROVE_ACTION, REJECT_ACTION } from '../src/slack/views';
import { approveAction } from './approve';
import type { CommandDeps } from './deps';
import { rejectAction } from './reject';
import { ROTATE_COMMAND, rotateCommand } from './rotate';

export type { CommandDeps } from './deps';

/** Registers every Slack listener; handlers live one per file. */
export function register(app: App, deps: CommandDeps): void {
  app.command(ROTATE_COMMAND, rotateCommand(deps));
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, approveAction(deps));
  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, rejectAction(deps));
}
