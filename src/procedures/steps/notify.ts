import { completedOutcome } from '../../domain/run';
import { done, type StepContext, type StepOutcome } from '../context';

/** Runbook step 8: the summary to the run's thread and the credential's channel, as Slack's pace allows. */
export async function notify(ctx: StepContext): Promise<StepOutcome> {
  ctx.run.outcome ??= completedOutcome(ctx.run);
  const { retryInMs } = await ctx.deps.chat.summary(ctx.run, ctx.spec);
  if (retryInMs !== undefined) {
    // Slack's per-channel pace: look again later instead of holding this worker slot.
    return { kind: 'wait', delayMs: retryInMs, detail: 'summary waiting for its channel (Slack pacing)' };
  }
  return done(`summary posted (${ctx.run.outcome})`);
}
