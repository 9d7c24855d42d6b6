/** Signed Slack requests for tests: the same helpers the sandbox's slack CLI uses. */
export {
  blockActionBody,
  postSigned,
  slackSignature,
  slashCommandBody,
  type BlockActionInput,
  type SignedPostOptions,
  type SignedResponse,
  type SlashCommandInput,
} from '../../sandbox/slack/signed-request';
