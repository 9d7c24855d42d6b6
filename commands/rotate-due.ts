import type { View } from '../src/slack/views';
import type { AnswerDeps } from './deps';

/**
 * `/rotate due [page]`: the reminder digest of the channel the command was typed in (the one the
 * weekly job posts there, found by the channel's id or its name); `/rotate due all [page]`: every channel's, most urgent first.
 */
export function dueDigest(
  deps: AnswerDeps,
  channel: string,
  input: { all?: boolean; page?: number },
  channelName?: string,
): Promise<View> {
  return input.all
    ? deps.reminders.everything(input.page)
    : deps.reminders.forChannel(channel, input.page, channelName);
}
