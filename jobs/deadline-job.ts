import type { Job } from 'bullmq';
import type { AuditLog, IncidentChannel } from '../src/domain/ports';
import type { DeadlineJobData } from '../src/queue/names';
import type { RunStore } from '../src/queue/run-store';

export interface DeadlineJobDeps {
  runs: RunStore;
  audit: AuditLog;
  incidents?: IncidentChannel;
}

const minutes = (ms: number): string => `${Math.round(ms / 60_000)} min`;

/**
 * The runbook's emergency deadlines, counted from the responder's click: a run still unfinished at
 * half its deadline is escalated to the security channel (and its incident), and again at the deadline.
 */
export function createDeadlineProcessor(deps: DeadlineJobDeps) {
  return async (job: Job<DeadlineJobData>): Promise<'finished' | 'escalated'> => {
    const { runId, kind, deadlineMs } = job.data;
    const run = await deps.runs.get(runId);
    if (!run || run.status === 'finished') return 'finished';
    const at = run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
    const where = at ? `at ${at.name}${at.detail ? ` (${at.detail})` : ''}` : 'queued';
    const text =
      kind === 'half'
        ? `⏱ Emergency rotation of \`${run.credential}\` (${run.incident?.ref ?? 'no incident'}) is half-way to its ${minutes(deadlineMs)} deadline and not finished: ${where}.`
        : `🚨 Emergency rotation of \`${run.credential}\` (${run.incident?.ref ?? 'no incident'}) missed its ${minutes(deadlineMs)} deadline: ${where}.`;
    await deps.audit.record({
      runId,
      credential: run.credential,
      action: 'emergency.deadline',
      outcome: 'info',
      identity: 'schedule',
      detail: `${kind}: ${where}`,
    });
    await deps.incidents?.escalate(run, { text, security: true, once: `deadline:${kind}` });
    return 'escalated';
  };
}
