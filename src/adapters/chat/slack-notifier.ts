import type { WebClient } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';
import type { CredentialSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { Run } from '../../domain/run';
import type { ChatNotifier } from '../../domain/ports';
import { ChannelPacer } from './channel-pacer';

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
}

export interface SlackNotifierOptions {
  /** Built with createWebClient (explicit retryConfig, slackApiUrl from config). */
  client: WebClient;
  views: RunRenderer;
  logger?: PinoLogger;
  pacer?: ChannelPacer;
  /** Where summaries go when a credential names no channel (SECURITY_CHANNEL). */
  fallbackChannel?: string;
}

interface PendingUpdate {
  latest: Run;
  dirty: boolean;
  done: Promise<void>;
}

function chatError(what: string, channel: string, e: unknown): RotatorError {
  const data = (e as { data?: { error?: unknown } }).data;
  const code = typeof data?.error === 'string' ? data.error : undefined;
  return new RotatorError('internal', `Slack ${what} in ${channel} failed${code ? `: ${code}` : ''}`, {
    context: { channel, ...(code ? { slackError: code } : {}) },
    transient: code === undefined,
  });
}

/**
 * Run progress as one message in the run's thread, posted once and then edited with chat.update;
 * bursts of step transitions are coalesced into the latest state, paced per channel.
 */
export class SlackNotifier implements ChatNotifier {
  private readonly client: WebClient;
  private readonly views: RunRenderer;
  private readonly pacer: ChannelPacer;
  private readonly posted = new Map<string, Promise<string | undefined>>();
  private readonly pending = new Map<string, PendingUpdate>();

  constructor(private readonly opts: SlackNotifierOptions) {
    this.client = opts.client;
    this.views = opts.views;
    this.pacer = opts.pacer ?? new ChannelPacer();
  }

  /** Posts the progress message the first time, then schedules an update. Best effort: never throws. */
  async progress(run: Run): Promise<{ progressTs?: string }> {
    const slack = run.slack;
    if (!slack) return {};
    const known = slack.progressTs ? Promise.resolve(slack.progressTs) : this.posted.get(run.id);
    if (!known) {
      const first = this.postProgress(run, slack.channel, slack.threadTs);
      this.posted.set(run.id, first);
      const ts = await first;
      if (!ts) this.posted.delete(run.id);
      return ts ? { progressTs: ts } : {};
    }
    const ts = await known;
    if (!ts) return this.progress({ ...run, slack: { ...slack } });
    this.schedule(run, slack.channel, ts);
    return { progressTs: ts };
  }

  /** Final summary to the run's thread and the credential's channel. Throws when a post fails. */
  async summary(run: Run, spec: CredentialSpec): Promise<void> {
    await this.settled(run);
    this.posted.delete(run.id);
    const message = this.views.summary(run, spec);
    const targets: Array<{ channel: string; thread_ts?: string }> = [];
    if (run.slack) {
      targets.push({
        channel: run.slack.channel,
        ...(run.slack.threadTs ? { thread_ts: run.slack.threadTs } : {}),
      });
    }
    const contact = spec.channel ?? this.opts.fallbackChannel;
    if (contact && contact !== run.slack?.channel) targets.push({ channel: contact });
    const failures: RotatorError[] = [];
    for (const target of targets) {
      await this.pacer.acquire(target.channel);
      try {
        await this.client.chat.postMessage({ ...target, text: message.text, blocks: message.blocks });
      } catch (e) {
        failures.push(chatError('summary post', target.channel, e));
      }
    }
    if (failures[0]) throw failures[0];
  }

  /** Resolves once every scheduled progress update has been sent (or given up). */
  async idle(): Promise<void> {
    await Promise.all([...this.pending.values()].map((p) => p.done));
  }

  private async settled(run: Run): Promise<void> {
    const ts = run.slack?.progressTs ?? (await this.posted.get(run.id));
    const pending = ts && run.slack ? this.pending.get(`${run.slack.channel}:${ts}`) : undefined;
    if (pending) await pending.done;
  }

  private async postProgress(run: Run, channel: string, threadTs?: string): Promise<string | undefined> {
    const message = this.views.progress(run);
    await this.pacer.acquire(channel);
    try {
      const res = await this.client.chat.postMessage({
        channel,
        ...(threadTs ? { thread_ts: threadTs } : {}),
        text: message.text,
        blocks: message.blocks,
      });
      return res.ts;
    } catch (e) {
      this.opts.logger?.warn(
        { runId: run.id, err: chatError('progress post', channel, e) },
        'progress not posted',
      );
      return undefined;
    }
  }

  private schedule(run: Run, channel: string, ts: string): void {
    const key = `${channel}:${ts}`;
    const existing = this.pending.get(key);
    if (existing) {
      existing.latest = run;
      existing.dirty = true;
      return;
    }
    const entry: PendingUpdate = { latest: run, dirty: true, done: Promise.resolve() };
    this.pending.set(key, entry);
    entry.done = (async () => {
      while (entry.dirty) {
        await this.pacer.acquire(channel);
        entry.dirty = false;
        const message = this.views.progress(entry.latest);
        try {
          await this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks });
        } catch (e) {
          const err = chatError('progress update', channel, e);
          this.opts.logger?.warn({ runId: entry.latest.id, err }, 'progress not updated');
        }
      }
      this.pending.delete(key);
    })();
  }
}
