import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { replyEphemeral } from '../src/slack/reply';
import { noticeView } from '../src/slack/views';

/** What Bolt hands a button's listener. */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** A notice only the user who clicked sees, in the channel of the click. */
export const noticeToClicker =
  (a: ButtonArgs) =>
  (text: string): Promise<void> =>
    replyEphemeral(a.client, { channel: a.body.channel?.id ?? '', user: a.body.user.id }, noticeView(text));
