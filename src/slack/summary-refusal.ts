import type { Run } from '../domain/run';
import { describeSlackFailure } from './slack-errors';

export interface RunRecords {
  get(runId: string): Promise<Run | undefined>;
  save(run: Run): Promise<void>;
}

/**
 * A channel refused a run's queued summary for good: the run says so, in words (`notifyError`),
 * beside its outcome. Only a finished run is written (the engine saves it whole until then); an
 * unfinished one throws, so the outbox keeps the summary and its job is tried again.
 */
export async function recordRefusal(
  runs: RunRecords,
  refusal: { runId: string; channel: string; code: string },
): Promise<void> {
  const { runId, channel, code } = refusal;
  const run = await runs.get(runId);
  if (!run) return;
  if (run.status !== 'finished') throw new Error(`run ${runId} has not finished: its summary refusal waits`);
  const text = `Slack refused the summary in ${channel} (${code}): ${describeSlackFailure({ code }, channel)}`;
  if (run.notifyError?.includes(text)) return;
  run.notifyError = run.notifyError ? `${run.notifyError}; ${text}` : text;
  await runs.save(run);
}
