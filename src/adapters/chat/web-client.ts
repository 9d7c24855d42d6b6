import { WebClient, type RetryOptions, type WebClientOptions } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';
import { slackLogger } from './slack-logger';

/**
 * Explicit retry policy: the SDK default (tenRetriesInAboutThirtyMinutes) keeps a call alive for
 * ~30 minutes. Three retries with 1 s → 4 s → 16 s backoff (plus any Retry-After wait) gives up
 * within about a minute, well inside a step's budget.
 */
export const SLACK_RETRY: RetryOptions = {
  retries: 3,
  factor: 4,
  minTimeout: 1_000,
  maxTimeout: 16_000,
  randomize: true,
};

export interface WebClientInput {
  token: string;
  /** Points the client at the sandbox's Slack double (SLACK_API_URL); must end with /api/. */
  slackApiUrl?: string;
  logger?: PinoLogger;
  retryConfig?: RetryOptions;
  /** Per-request timeout in ms. */
  timeoutMs?: number;
  /**
   * Answer a 429 at once instead of waiting it out: for queued work (the notifications worker)
   * that defers itself by the Retry-After rather than hold its slot through it.
   */
  rejectRateLimitedCalls?: boolean;
}

/** Options every Slack-side client uses (the Bolt app passes the same ones as clientOptions). */
export function webClientOptions(input: Omit<WebClientInput, 'token'>): WebClientOptions {
  return {
    retryConfig: input.retryConfig ?? SLACK_RETRY,
    // 429s are waited out (Retry-After) inside the retry budget above, unless the caller defers itself.
    rejectRateLimitedCalls: input.rejectRateLimitedCalls ?? false,
    timeout: input.timeoutMs ?? 10_000,
    ...(input.slackApiUrl ? { slackApiUrl: input.slackApiUrl } : {}),
    ...(input.logger ? { logger: slackLogger(input.logger, 'slack-web-api') } : {}),
  };
}

/** The one way the project builds a Slack Web API client. */
export function createWebClient(input: WebClientInput): WebClient {
  return new WebClient(input.token, webClientOptions(input));
}
