import { completedOutcome } from '../../domain/run';
import { done, type StepContext, type StepOutcome } from '../context';

/**
 * Runbook step 8: the summary to the run's thread and the credential's channel. Queued for each
 * channel's pace by the notifier, so the step never holds this worker slot through a busy channel.
 */
export async function notify(ctx: StepContext): Promise<StepOutcome> {
  ctx.run.outcome ??= completedOutcome(ctx.run);
  await ctx.deps.chat.summary(ctx.run, ctx.spec);
  return done(`summary sent (${ctx.run.outcome})`);
}
