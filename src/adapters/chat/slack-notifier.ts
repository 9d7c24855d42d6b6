import type { WebClient } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';
import type { CredentialSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { Run } from '../../domain/run';
import type { ChatNotifier } from '../../domain/ports';

export { createWebClient, SLACK_RETRY, webClientOptions } from './web-client';

/** A rendered Slack message: fallback text plus Block Kit blocks. Never carries a value. */
export interface ChatMessage {
  text: string;
  blocks: Array<{ type: string; block_id?: string }>;
}

/** How runs look in chat; src/slack/views provides `runViews` (injected so adapters stay below src/slack). */
export interface RunRenderer {
  progress(run: Run): ChatMessage;
  summary(run: Run, spec: CredentialSpec): ChatMessage;
  /** An emergency run's summary; `reviewable` adds the Reviewed button (the security channel's copy). */
  emergencySummary?(run: Run, spec: CredentialSpec, opts: { reviewable: boolean }): ChatMessage;
}

/** Where summaries wait for their channel's pace (src/slack/channel-outbox, injected: adapters stay below src/slack). */
export interface SummaryQueue {
  /** Queues `message` for `channel`; resolves once it is safely stored, not once it is posted. */
  post(
    channel: string,
    message: ChatMessage,
    opts: { thread_ts?: string; id?: string; runId?: string },
  ): Promise<void>;
}

export interface SlackNotifierOptions {
  /** Built with createWebClient (explicit retryConfig, slackApiUrl from config). */
  client: WebClient;
  views: RunRenderer;
  /** Summaries are queued here and posted by the notifications worker, paced per channel. */
  summaries: SummaryQueue;
  /**
   * A run started from Slack changed: schedules the render of its progress message in its thread
   * (src/slack/run-progress). Must not wait on pacing.
   */
  runProgress?: (run: Run) => Promise<void>;
  /** The ts of a run's progress message, once posted (src/slack/run-progress). */
  progressAt?: (runId: string) => Promise<string | undefined>;
  logger?: PinoLogger;
  /** Where summaries go when a credential names no channel (SECURITY_CHANNEL). */
  fallbackChannel?: string;
  /** SECURITY_CHANNEL: gets every emergency summary, with its Reviewed button (default fallbackChannel). */
  securityChannel?: string;
  /**
   * Emergency runs report to their incident's one message instead of a thread of their own: this
   * schedules its render (src/slack/incident-board). Must not wait on pacing.
   */
  incidentProgress?: (run: Run) => Promise<void>;
}

interface SummaryTarget {
  channel: string;
  thread_ts?: string;
  message: ChatMessage;
}

/** The outbox id of a run's summary to one channel: queued once, however often notify runs. */
export const summaryItemId = (runId: string, channel: string): string => `summary:${runId}:${channel}`;

function chatError(what: string, channel: string, e: unknown): RotatorError {
  const data = (e as { data?: { error?: unknown } }).data;
  const code = typeof data?.error === 'string' ? data.error : undefined;
  return new RotatorError('internal', `Slack ${what} in ${channel} failed${code ? `: ${code}` : ''}`, {
    context: { channel, ...(code ? { slackError: code } : {}) },
    transient: code === undefined,
  });
}

/**
 * How runs are told in Slack, without a worker ever waiting on Slack. Progress schedules a render
 * of the run's one message (its incident's message for an emergency), which a notifications job
 * posts or edits with the newest state. Summaries are queued in each channel's outbox, once per
 * channel, and posted by the notifications worker at the channel's pace, shared by every replica.
 */
export class SlackNotifier implements ChatNotifier {
  constructor(private readonly opts: SlackNotifierOptions) {}

  /** Schedules a render of the run's progress message. Best effort: never throws. */
  async progress(run: Run): Promise<{ progressTs?: string }> {
    const render = run.incident ? this.opts.incidentProgress : run.slack ? this.opts.runProgress : undefined;
    await render?.(run).catch((e: unknown) =>
      this.opts.logger?.warn({ runId: run.id, err: (e as Error).message }, 'progress render not scheduled'),
    );
    return {};
  }

  /**
   * Queues the final summary for the run's thread and the credential's channel (an emergency's for
   * the incident and security channels). Throws (transient) only when it cannot be queued; a channel
   * that refuses it later is told to the run by the outbox (run.notifyError).
   */
  async summary(run: Run, spec: CredentialSpec): Promise<void> {
    const targets =
      run.incident && this.opts.views.emergencySummary
        ? this.emergencyTargets(run, spec)
        : this.targets(run, spec);
    for (const { channel, thread_ts, message } of targets) {
      const id = summaryItemId(run.id, channel);
      try {
        await this.opts.summaries.post(channel, message, {
          id,
          runId: run.id,
          ...(thread_ts ? { thread_ts } : {}),
        });
      } catch (e) {
        throw new RotatorError('internal', `summary for ${channel} not queued: ${(e as Error).message}`, {
          context: { channel },
          transient: true,
        });
      }
    }
  }

  private targets(run: Run, spec: CredentialSpec): SummaryTarget[] {
    const message = this.opts.views.summary(run, spec);
    const targets: SummaryTarget[] = [];
    if (run.slack) {
      targets.push({
        channel: run.slack.channel,
        ...(run.slack.threadTs ? { thread_ts: run.slack.threadTs } : {}),
        message,
      });
    }
    const contact = spec.channel ?? this.opts.fallbackChannel;
    if (contact && contact !== run.slack?.channel) targets.push({ channel: contact, message });
    return targets;
  }

  /**
   * An emergency's summary: to the incident channel, and to the security channel with the Reviewed
   * button (an expedited change is reviewed afterwards).
   */
  private emergencyTargets(run: Run, spec: CredentialSpec): SummaryTarget[] {
    const render = this.opts.views.emergencySummary!;
    const incident = run.incident!.channel;
    const security = this.opts.securityChannel ?? this.opts.fallbackChannel;
    return security && security !== incident
      ? [
          { channel: incident, message: render(run, spec, { reviewable: false }) },
          { channel: security, message: render(run, spec, { reviewable: true }) },
        ]
      : [{ channel: incident, message: render(run, spec, { reviewable: true }) }];
  }

  /**
   * Why a summary cannot be posted in `channel` (default the fallback channel), from
   * conversations.info and the token's scopes: chat.postMessage would answer channel_not_found,
   * is_archived or not_in_channel. Undefined when it can, or when the channel is named rather than
   * given by id (conversations.info takes ids only). Never throws.
   */
  async channelProblem(channel: string | undefined): Promise<string | undefined> {
    const id = channel ?? this.opts.fallbackChannel;
    if (!id || !/^[CG][A-Z0-9_]+$/.test(id)) return undefined;
    try {
      const res = await this.opts.client.conversations.info({ channel: id });
      const c = res.channel;
      const name = c?.name ? `#${c.name}` : id;
      if (c?.is_archived) return `${name} (${id}) is archived: Slack refuses posts there (is_archived)`;
      const scopes = res.response_metadata?.scopes ?? [];
      if (c?.is_member === false && (c.is_private || !scopes.includes('chat:write.public'))) {
        return `the bot is not in ${name} (${id}): Slack refuses its posts there (not_in_channel); invite it with /invite`;
      }
      return undefined;
    } catch (e) {
      const code = (e as { data?: { error?: unknown } }).data?.error;
      if (code === 'channel_not_found') {
        return `channel ${id} does not exist or the bot cannot see it (channel_not_found)`;
      }
      this.opts.logger?.warn({ channel: id, err: chatError('channel check', id, e) }, 'channel not checked');
      return undefined;
    }
  }

  /**
   * A reminder in the run's thread (under its progress message when the run has no thread),
   * queued like a summary: it reaches the channel at its pace, never holding the step.
   */
  async remind(run: Run, text: string): Promise<void> {
    const slack = run.slack;
    if (!slack) return;
    const thread = slack.threadTs ?? (await this.opts.progressAt?.(run.id));
    const block = { type: 'section', text: { type: 'mrkdwn', text } };
    await this.opts.summaries.post(
      slack.channel,
      { text, blocks: [block] },
      thread ? { thread_ts: thread } : {},
    );
  }
}
