import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import { isFirstDelivery } from '../src/slack/command-retries';
import { replyEphemeral } from '../src/slack/reply';
import type { RotateRequest } from '../src/slack/slack-requests';
import { helpView, type View } from '../src/slack/views';
import type { CommandDeps } from './deps';
import { requestEmergency } from './emergency-request';
import { answerRotate } from './rotate-answer';
import { parseRotateText } from './rotate-parse';

export const ROTATE_COMMAND = '/rotate';

/**
 * The /rotate slash command. Acks at once (empty body), drops a retry Slack sent of a command
 * already taken, answers help and usage itself, and hands the slow work (store, cluster and issuer
 * reads, the plan message) to a worker through the `slack-requests` queue; without a queue (tests
 * of the listeners alone) it does that work here. Errors thrown here reach the app's one error
 * handler, so a queue that is down is reported at once.
 */
export function rotateCommand(deps: CommandDeps) {
  return async ({
    command,
    ack,
    client,
    context,
  }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    await ack();
    if (!(await isFirstDelivery(context))) return;
    const target = { channel: command.channel_id, user: command.user_id, responseUrl: command.response_url };
    const reply = (view: View) => replyEphemeral(client, target, view);
    const input = parseRotateText(command.text);
    deps.logger.info({ user: command.user_id, channel: command.channel_id, kind: input.kind }, '/rotate');

    if (input.kind === 'usage') return reply(helpView(input.problem));
    if (input.kind === 'help') return reply(helpView());
    if (input.kind === 'emergency') {
      const who = {
        user: command.user_id,
        channel: command.channel_id,
        channelName: command.channel_name,
        example: '`/rotate emergency <name> INC-2024-0042`',
        reply,
      };
      // A leak never queues behind plans: its request is a few Redis writes and the scope's reads.
      return requestEmergency(deps, client, who, input);
    }
    const request: RotateRequest = {
      kind: 'rotate',
      text: command.text,
      user: command.user_id,
      channel: command.channel_id,
      ...(command.channel_name ? { channelName: command.channel_name } : {}),
      responseUrl: command.response_url,
    };
    if (deps.enqueueRequest) return deps.enqueueRequest(request);
    return answerRotate(deps, client, request);
  };
}
