import type { RunRenderer } from '../../adapters/chat/slack-notifier';
import { progressView } from './progress-view';
import { summaryView } from './summary-view';
import { emergencySummaryView } from './emergency-summary-view';

export * from './blocks';
export { errorView, noticeView } from './error-view';
export { helpView, USAGE } from './help-view';
export { APPROVE_ACTION, planView, REJECT_ACTION, type PlanViewInput } from './plan-view';
export { progressView, STEP_ICON } from './progress-view';
export { MANUAL_REVOKED_ACTION, MANUAL_STORED_ACTION } from './manual-view';
export {
  halfRotatedView,
  parseRecoverValue,
  recoverValue,
  RESUME_ACTION,
  ROLLBACK_ACTION,
} from './reconcile-view';
export { dueView, MAX_BLOCKS, SECTION_CHARS, type DueEntry, type DueViewOptions } from './due-view';
export { historyView, statusView, type StatusInput } from './status-view';
export {
  DIGEST_ROWS,
  digestMessages,
  digestView,
  driftLine,
  ROTATE_NOW_ACTION,
  SNOOZE_ACTION,
  SNOOZE_DAYS,
  type DigestViewOptions,
} from './digest-view';
export { HOME_MAX_BLOCKS, homeView, type HomeView } from './home-view';
export { oldKeyBlocks, REACTIVATE_OLD_KEY_ACTION } from './old-key-view';
export { summaryView } from './summary-view';

/** What SlackNotifier renders runs with: `new SlackNotifier({ client, views: runViews })`. */
export const runViews: RunRenderer = {
  progress: progressView,
  summary: summaryView,
  emergencySummary: emergencySummaryView,
};
export {
  EMERGENCY_START_ACTION,
  emergencyScopeView,
  emergencyStartedLine,
  type EmergencyScopeInput,
} from './emergency-view';
export {
  EMERGENCY_REVIEWED_ACTION,
  emergencySummaryView,
  escalationView,
  incidentRecordView,
  reviewedLine,
} from './emergency-summary-view';
export { incidentBoardView, incidentTimelineView, stepReached, type TimelineExtras } from './incident-view';
