/** Signed Slack requests for tests: the same helpers the sandbox's slack CLI uses. */
export {
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

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes. */
export async function eventually<T>(
  fn: () => T | Promise<T>,
  timeoutMs = 5_000,
  stepMs = 25,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
