import type { RunRenderer } from '../../adapters/chat/slack-notifier';
import { progressView } from './progress-view';
import { summaryView } from './summary-view';

export * from './blocks';
export { errorView, noticeView } from './error-view';
export { helpView, USAGE } from './help-view';
export { APPROVE_ACTION, planView, REJECT_ACTION, type PlanViewInput } from './plan-view';
export { progressView, STEP_ICON } from './progress-view';
export {
  halfRotatedView,
  parseRecoverValue,
  recoverValue,
  RESUME_ACTION,
  ROLLBACK_ACTION,
} from './reconcile-view';
export { dueView, historyView, statusView, type DueEntry, type StatusInput } from './status-view';
export { summaryView } from './summary-view';

/** What SlackNotifier renders runs with: `new SlackNotifier({ client, views: runViews })`. */
export const runViews: RunRenderer = { progress: progressView, summary: summaryView };
