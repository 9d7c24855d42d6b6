/** Signed Slack requests for tests: the same helpers the sandbox's slack CLI uses. */
export {
  appHomeOpenedBody,
  appMentionBody,
  blockActionBody,
  EVENT_CONTENT_TYPE,
  postSigned,
  slackSignature,
  slashCommandBody,
  type AppMentionInput,
  type BlockActionInput,
  type SignedPostOptions,
  type SignedResponse,
  type SlashCommandInput,
} from '../../sandbox/slack/signed-request';
