import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import { replyEphemeral } from '../src/slack/reply';
import { noticeView, type View } from '../src/slack/views';
import type { CommandDeps } from './deps';
import { parseMentionText } from './emergency-parse';
import { requestEmergency } from './emergency-request';

/**
 * `@credential-rotator compromised <name> …` (Events API app_mention). Bolt acks events itself
 * before listeners run, so everything here is after the ack. Answers go to the person only.
 */
export function emergencyMention(deps: CommandDeps) {
  return async ({
    event,
    client,
    context,
  }: SlackEventMiddlewareArgs<'app_mention'> & AllMiddlewareArgs): Promise<void> => {
    const user = event.user;
    if (!user) return; // a bot's or a workflow's mention: nobody to authorize
    const reply = (view: View) => replyEphemeral(client, { channel: event.channel, user }, view);
    const input = parseMentionText(event.text, context.botUserId);
    deps.logger.info({ user, channel: event.channel, kind: input.kind }, 'app_mention');
    if (input.kind === 'usage') return reply(noticeView(input.problem));
    const who = {
      user,
      channel: event.channel,
      ...(event.thread_ts ? { threadTs: event.thread_ts } : {}),
      example: '`@credential-rotator compromised <name> INC-2024-0042`',
      reply,
    };
    await requestEmergency(deps, client, who, input);
  };
}
