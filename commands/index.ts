import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import {
  APPROVE_ACTION,
  EMERGENCY_REVIEWED_ACTION,
  EMERGENCY_START_ACTION,
  MANUAL_REVOKED_ACTION,
  MANUAL_STORED_ACTION,
  REACTIVATE_OLD_KEY_ACTION,
  REJECT_ACTION,
  RESUME_ACTION,
  ROLLBACK_ACTION,
  ROTATE_NOW_ACTION,
  SNOOZE_ACTION,
} from '../src/slack/views';
import { appHomeOpened } from './app-home';
import { approveAction } from './approve';
import type { CommandDeps } from './deps';
import { emergencyMention } from './emergency-mention';
import { emergencyReviewAction } from './emergency-review';
import { emergencyStartAction } from './emergency-start';
import { manualConfirmAction } from './manual-confirm';
import { reactivateOldKeyAction } from './reactivate-old-key';
import { recoverAction } from './recover';
import { rejectAction } from './reject';
import { ROTATE_COMMAND, rotateCommand } from './rotate';
import { rotateNowAction } from './rotate-now';
import { snoozeAction } from './snooze';

export type { AnswerDeps, CommandDeps } from './deps';
export { answerRotate } from './rotate-answer';
export { publishHome } from './app-home';

/** Registers every Slack listener; handlers live one per file. */
export function register(app: App, deps: CommandDeps): void {
  app.command(ROTATE_COMMAND, rotateCommand(deps));
  app.action<BlockAction<ButtonAction>>(APPROVE_ACTION, approveAction(deps));
  app.action<BlockAction<ButtonAction>>(REJECT_ACTION, rejectAction(deps));
  app.action<BlockAction<ButtonAction>>(RESUME_ACTION, recoverAction(deps, 'resume'));
  app.action<BlockAction<ButtonAction>>(ROLLBACK_ACTION, recoverAction(deps, 'rollback'));
  app.action<BlockAction<ButtonAction>>(EMERGENCY_START_ACTION, emergencyStartAction(deps));
  app.action<BlockAction<ButtonAction>>(EMERGENCY_REVIEWED_ACTION, emergencyReviewAction(deps));
  app.action<BlockAction<ButtonAction>>(MANUAL_STORED_ACTION, manualConfirmAction(deps, 'stored'));
  app.action<BlockAction<ButtonAction>>(MANUAL_REVOKED_ACTION, manualConfirmAction(deps, 'revoked'));
  app.action<BlockAction<ButtonAction>>(REACTIVATE_OLD_KEY_ACTION, reactivateOldKeyAction(deps));
  app.action<BlockAction<ButtonAction>>(ROTATE_NOW_ACTION, rotateNowAction(deps));
  app.action<BlockAction<ButtonAction>>(SNOOZE_ACTION, snoozeAction(deps));
  app.event('app_mention', emergencyMention(deps));
  app.event('app_home_opened', appHomeOpened(deps));
}
