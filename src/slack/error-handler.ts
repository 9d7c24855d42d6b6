import type { WebClient } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';
import { isRotatorError } from '../domain/errors';
import { replyEphemeral, targetOf, type EphemeralTarget } from './reply';
import { MalformedRequestError } from './malformed-request';
import { slackErrorView, slackFailureOf } from './slack-errors';
import { errorView } from './views';

/**
 * The original error behind Bolt's wrappers (UnknownError.original, MultipleListenerError.originals).
 * A Web API error also has `original` (the fetch error) but is itself what tells what went wrong.
 */
function unwrap(e: unknown): unknown {
  const w = e as { code?: unknown; original?: unknown; originals?: unknown[] };
  if (typeof w.code === 'string' && w.code.startsWith('slack_webapi_')) return e;
  if (w.originals?.length) return unwrap(w.originals[0]);
  return w.original !== undefined ? unwrap(w.original) : e;
}

/**
 * The one error handler (`app.error`): a coded error becomes an ephemeral message with the runbook
 * hint, a Slack API error a sentence saying what Slack refused; anything else a generic line.
 * Never a stack trace or a value in Slack.
 */
export function errorHandler(client: () => WebClient, logger: PinoLogger) {
  return async ({ error, body }: { error: Error; body: unknown }): Promise<void> => {
    const original = unwrap(error);
    // Back to the receiver, which answers 400: nobody to tell, nothing to handle.
    if (original instanceof MalformedRequestError) throw original;
    await tellUser(client(), targetOf(body), original, logger);
  };
}

/**
 * Logs `error` and tells the person who acted what went wrong (the Slack listeners' errors, and
 * those of `/rotate` work a worker did for them), never a stack trace or a value.
 */
export async function tellUser(
  client: WebClient,
  target: EphemeralTarget | undefined,
  error: unknown,
  logger: PinoLogger,
): Promise<void> {
  const original = unwrap(error);
  const slackView = slackErrorView(original, target?.channel);
  if (isRotatorError(original))
    logger.warn({ code: original.code, context: original.context }, original.message);
  else if (slackView) logger.warn({ slack: slackFailureOf(original) }, 'Slack API call failed');
  else logger.error({ err: original }, 'Slack listener failed');
  if (!target) return;
  await replyEphemeral(client, target, slackView ?? errorView(original)).catch((e: unknown) =>
    logger.warn({ err: e }, 'could not tell the user about an error'),
  );
}
