import { closePlan, type PlanMessage } from '../src/slack/plan-message';
import { replyEphemeral } from '../src/slack/reply';
import { slackFailureOf } from '../src/slack/slack-errors';
import { noticeView } from '../src/slack/views';
import type { CommandDeps } from './deps';
import { type ButtonArgs } from './button';

/**
 * Closes the plan of an approved request whose run has started. When Slack refuses the edit (a
 * 429 storm on chat.update, the message deleted), the run stands: the approver is told it started
 * and which run it is, and the close is retried later by a delayed job. Until then a click on the
 * stale buttons is refused as "already approved", so they cannot start a second run.
 */
export async function closeApprovedPlan(
  deps: CommandDeps,
  a: ButtonArgs,
  started: { requestId: string; credential: string; runId: string; plan: PlanMessage; line: string },
): Promise<void> {
  try {
    await closePlan(a.client, started.plan, started.line);
    return;
  } catch (e) {
    const failure = slackFailureOf(e);
    if (!failure) throw e;
    deps.logger.warn(
      { requestId: started.requestId, runId: started.runId, slack: failure },
      'plan not closed',
    );
  }
  let retrying = false;
  if (deps.scheduleClose) {
    retrying = await deps.scheduleClose(started.requestId, started.line).then(
      () => true,
      (err: unknown) => {
        deps.logger.warn(
          { requestId: started.requestId, err: (err as Error).message },
          'plan close not queued',
        );
        return false;
      },
    );
  }
  const text =
    `✓ Run \`${started.runId}\` started for \`${started.credential}\`; its progress appears in the plan's thread. ` +
    `Slack did not let me mark the plan as approved yet${retrying ? ', so I will retry shortly' : ''}; ` +
    'its buttons no longer start anything.';
  // The click's response_url is not subject to chat.* rate limits, unlike chat.postEphemeral.
  await replyEphemeral(
    a.client,
    {
      channel: a.body.channel?.id ?? started.plan.channel,
      user: a.body.user.id,
      ...(a.body.response_url ? { responseUrl: a.body.response_url } : {}),
    },
    noticeView(text),
  );
}
