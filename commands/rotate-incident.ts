import { mapLimit } from '../src/procedures/bounded';
import { incidentTimelineView, type TimelineExtras, type View } from '../src/slack/views';
import type { AnswerDeps } from './deps';

/** The line incident.record's detail carries (formatIncidentRecord). */
const EARLIEST = /^Earliest suspicious use: (.+)$/m;

/**
 * `/rotate incident <INC-…>`: every run of the incident with what the audit trail adds: the
 * earliest suspicious use from the incident record, and who reviewed the expedited change.
 */
export async function incidentTimeline(deps: AnswerDeps, ref: string): Promise<View> {
  const runs = await deps.requests.incidentRuns(ref);
  const entries = await mapLimit(runs, 4, async (run) => {
    const trail = await deps.audit.recent({ runId: run.id, limit: 100 });
    const record = trail.find((e) => e.action === 'incident.record');
    const review = trail.find((e) => e.action === 'emergency.reviewed');
    const earliest = EARLIEST.exec(record?.detail ?? '')?.[1];
    const extra: TimelineExtras = {
      ...(earliest ? { earliestSuspicious: earliest } : {}),
      ...(review ? { reviewedBy: review.identity.replace(/^slack:/, ''), reviewedAt: review.time } : {}),
    };
    return { run, extra };
  });
  return incidentTimelineView(ref, entries);
}
