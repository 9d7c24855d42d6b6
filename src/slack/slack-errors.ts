import { noticeView } from './views';
import type { View } from './views/blocks';

/** What a Slack Web API call failed with, from the error @slack/web-api threw. */
export interface SlackFailure {
  /** Slack's error code (`not_in_channel`, …), `ratelimited`, or `unreachable`. */
  code: string;
  retryAfterSeconds?: number;
}

// With rejectRateLimitedCalls false the client waits out each 429 and, when its retries run out,
// throws a request error whose original says "A rate limit was exceeded (url: …, retry-after: N)".
const RATE_LIMIT_TEXT = /rate limit was exceeded.*retry-after: (\d+)/i;

/** Failures that may pass (Slack limiting, down or unreachable): queued work tries again later. */
export const SLACK_PASSING_FAILURES: ReadonlySet<string> = new Set([
  'ratelimited',
  'unreachable',
  'internal_error',
  'fatal_error',
  'service_unavailable',
]);

/** The Slack failure behind `e`, or undefined when `e` is not a Slack Web API error. */
export function slackFailureOf(e: unknown): SlackFailure | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const err = e as {
    code?: unknown;
    data?: { error?: unknown };
    retryAfter?: unknown;
    original?: { message?: unknown };
  };
  if (err.code === 'slack_webapi_platform_error' && typeof err.data?.error === 'string')
    return { code: err.data.error };
  if (err.code === 'slack_webapi_rate_limited_error')
    return {
      code: 'ratelimited',
      ...(typeof err.retryAfter === 'number' ? { retryAfterSeconds: err.retryAfter } : {}),
    };
  if (err.code === 'slack_webapi_request_error' || err.code === 'slack_webapi_http_error') {
    const limited = RATE_LIMIT_TEXT.exec(String(err.original?.message ?? ''));
    return limited ? { code: 'ratelimited', retryAfterSeconds: Number(limited[1]) } : { code: 'unreachable' };
  }
  return undefined;
}

const INVITE = 'Invite me with `/invite @credential-rotator`';

/** A sentence the user can act on. `channel` is where the failed call wrote, when known. */
export function describeSlackFailure(f: SlackFailure, channel?: string): string {
  const where = channel ? `<#${channel}>` : 'this channel';
  switch (f.code) {
    case 'not_in_channel':
      return `I can't post in ${where}: I'm not a member. ${INVITE} and try again.`;
    case 'channel_not_found':
      return `I can't see ${where} (private channels and DMs need me as a member). ${INVITE}, or use a channel I'm in.`;
    case 'is_archived':
      return `${where} is archived, so I can't post there. Use an active channel.`;
    case 'restricted_action':
    case 'restricted_action_read_only_channel':
    case 'restricted_action_thread_only_channel':
      return `This workspace does not let me post in ${where}. Use another channel or ask a Slack admin.`;
    case 'message_not_found':
    case 'cant_update_message':
      return 'The message I wanted to update is gone (deleted?).';
    case 'ratelimited':
      return `Slack is rate-limiting me${f.retryAfterSeconds ? ` (retry after ${f.retryAfterSeconds} s)` : ''}; try again in a minute.`;
    case 'unreachable':
      return 'I could not reach Slack; try again in a minute.';
    default:
      return `Slack refused my message (\`${f.code}\`).`;
  }
}

/** The ephemeral the one error handler sends for a Slack API error, or undefined for other errors. */
export function slackErrorView(e: unknown, channel?: string): View | undefined {
  const failure = slackFailureOf(e);
  return failure ? noticeView(`:warning: ${describeSlackFailure(failure, channel)}`) : undefined;
}
