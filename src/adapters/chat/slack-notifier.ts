import type { WebClient } from '@slack/web-api';
import type { Logger as PinoLogger } from 'pino';
import type { CredentialSpec } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { Run } from '../../domain/run';
import type { ChatNotifier } from '../../domain/ports';
import { ChannelPacer } from './channel-pacer';
import { BoundedMap, closingState, isOlder, progressRank, type ProgressRank } from './progress-order';

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

export interface SlackNotifierOptions {
  /** Built with createWebClient (explicit retryConfig, slackApiUrl from config). */
  client: WebClient;
  views: RunRenderer;
  logger?: PinoLogger;
  pacer?: ChannelPacer;
  /** Where summaries go when a credential names no channel (SECURITY_CHANNEL). */
  fallbackChannel?: string;
  /** SECURITY_CHANNEL: gets every emergency summary, with its Reviewed button (default fallbackChannel). */
  securityChannel?: string;
  /**
   * Emergency runs report to their incident's one message instead of a thread of their own: this
   * schedules its render (src/slack/incident-board, injected so adapters stay below src/slack). It
   * must not wait on pacing.
   */
  incidentProgress?: (run: Run) => Promise<void>;
  now?: () => Date;
}

/** The newest state waiting to be sent to one progress message, rendered when it was reported. */
/** A summary's pacing slot closer than this is waited for in place; a later one re-queues the step. */
const SUMMARY_WAIT_MS = 1_000;

interface SummaryTarget {
  channel: string;
  thread_ts?: string;
  message: ChatMessage;
}

interface PendingUpdate {
  queued?: { rank: ProgressRank; message: ChatMessage; runId: string };
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
 * bursts of step transitions are coalesced into the latest state, paced per channel. Updates are
 * ordered: a state older than one already sent (or queued) for the message is dropped, and once
 * the summary is posted the run's later progress calls are dropped too, so a late update can never
 * leave the thread behind the summary ("7/8 steps done" under a "done" summary).
 */
export class SlackNotifier implements ChatNotifier {
  private readonly client: WebClient;
  private readonly views: RunRenderer;
  private readonly pacer: ChannelPacer;
  private readonly now: () => Date;
  private readonly posted = new Map<string, Promise<string | undefined>>();
  private readonly pending = new Map<string, PendingUpdate>();
  /** The newest state sent to each progress message (`channel:ts`). */
  private readonly sent = new BoundedMap<string, ProgressRank>();
  /** Runs whose summary was posted: their progress message is final. */
  private readonly summarised = new BoundedMap<string, true>();

  constructor(private readonly opts: SlackNotifierOptions) {
    this.client = opts.client;
    this.views = opts.views;
    this.pacer = opts.pacer ?? new ChannelPacer();
    this.now = opts.now ?? (() => new Date());
  }

  /** Posts the progress message the first time, then schedules an update. Best effort: never throws. */
  async progress(run: Run): Promise<{ progressTs?: string }> {
    if (run.incident && this.opts.incidentProgress) {
      await this.opts
        .incidentProgress(run)
        .catch((e: unknown) =>
          this.opts.logger?.warn(
            { runId: run.id, err: (e as Error).message },
            'incident message not scheduled',
          ),
        );
      return {};
    }
    const slack = run.slack;
    if (!slack) return {};
    if (this.summarised.has(run.id)) {
      const ts = slack.progressTs ?? (await this.posted.get(run.id));
      return ts ? { progressTs: ts } : {};
    }
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

  /**
   * Final summary to the run's thread and the credential's channel. Throws when a post fails. Once
   * posted, the progress message is brought to the run's closing state and closed to later updates.
   */
  async summary(run: Run, spec: CredentialSpec): Promise<{ retryInMs?: number }> {
    if (run.incident && this.views.emergencySummary) return this.emergencySummary(run, spec);
    await this.settled(run);
    const message = this.views.summary(run, spec);
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
    const result = await this.postSummaries(run, targets, 'summary post');
    if (result.retryInMs === undefined) await this.closeProgress(run);
    return result;
  }

  /**
   * An emergency's summary: to the incident channel, and to the security channel with the Reviewed
   * button (an expedited change is reviewed afterwards). Throws when a post fails.
   */
  private async emergencySummary(run: Run, spec: CredentialSpec): Promise<{ retryInMs?: number }> {
    const render = this.views.emergencySummary!;
    const incident = run.incident!.channel;
    const security = this.opts.securityChannel ?? this.opts.fallbackChannel;
    const targets: SummaryTarget[] =
      security && security !== incident
        ? [
            { channel: incident, message: render(run, spec, { reviewable: false }) },
            { channel: security, message: render(run, spec, { reviewable: true }) },
          ]
        : [{ channel: incident, message: render(run, spec, { reviewable: true }) }];
    return this.postSummaries(run, targets, 'emergency summary post');
  }

  /**
   * Posts each target not posted yet, in the pacing slot booked for it: a slot within a second is
   * waited for here, a later one is kept in the run and the time to it returned, so the caller
   * re-queues instead of holding a worker slot through a busy channel's queue.
   */
  private async postSummaries(
    run: Run,
    targets: SummaryTarget[],
    what: string,
  ): Promise<{ retryInMs?: number }> {
    const failures: RotatorError[] = [];
    let retryInMs: number | undefined;
    const facts = run.facts;
    for (const { message, ...target } of targets) {
      const channel = target.channel;
      if (facts.summaryPostedTo?.includes(channel)) continue;
      const now = Date.now();
      const slot = facts.summarySlots?.[channel] ?? now + this.pacer.reserve(channel);
      if (slot - now > SUMMARY_WAIT_MS) {
        facts.summarySlots = { ...facts.summarySlots, [channel]: slot };
        retryInMs = Math.max(retryInMs ?? 0, slot - now);
        continue;
      }
      if (slot > now) await new Promise((r) => setTimeout(r, slot - now));
      try {
        await this.client.chat.postMessage({ ...target, text: message.text, blocks: message.blocks });
        facts.summaryPostedTo = [...(facts.summaryPostedTo ?? []), channel];
      } catch (e) {
        failures.push(chatError(what, channel, e));
      } finally {
        if (facts.summarySlots) delete facts.summarySlots[channel];
      }
    }
    if (failures[0]) throw failures[0];
    return retryInMs === undefined ? {} : { retryInMs };
  }

  /**
   * The last edit of the run's progress message, then no more: later progress calls are dropped.
   * Not awaited by the summary: a cosmetic edit stuck behind a 429 must not hold up the run
   * (`idle()` waits for it at shutdown).
   */
  private async closeProgress(run: Run): Promise<void> {
    this.summarised.set(run.id, true);
    const ts = run.slack?.progressTs ?? (await this.posted.get(run.id));
    this.posted.delete(run.id);
    if (!ts || !run.slack) return;
    const key = `${run.slack.channel}:${ts}`;
    this.schedule(closingState(run, this.now()), run.slack.channel, ts);
    void this.pending.get(key)?.done.then(() => this.sent.delete(key));
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
      const res = await this.client.conversations.info({ channel: id });
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

  /** Resolves once every scheduled progress update has been sent (or given up). */
  async idle(): Promise<void> {
    await Promise.all([...this.pending.values()].map((p) => p.done));
  }

  private async settled(run: Run): Promise<void> {
    const ts = run.slack?.progressTs ?? (await this.posted.get(run.id));
    const pending = ts && run.slack ? this.pending.get(`${run.slack.channel}:${ts}`) : undefined;
    if (pending) await pending.done;
  }

  /** A reminder in the run's thread (under its progress message when the run has no thread). */
  async remind(run: Run, text: string): Promise<void> {
    const slack = run.slack;
    if (!slack) return;
    const thread = slack.threadTs ?? slack.progressTs ?? (await this.posted.get(run.id));
    await this.pacer.acquire(slack.channel);
    await this.client.chat.postMessage({
      channel: slack.channel,
      ...(thread ? { thread_ts: thread } : {}),
      text,
    });
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
    const rank = progressRank(run);
    const sent = this.sent.get(key);
    const existing = this.pending.get(key);
    const newest = existing?.queued?.rank ?? sent;
    if (newest && isOlder(rank, newest)) {
      this.opts.logger?.debug({ runId: run.id, rank, newest }, 'stale progress update dropped');
      return;
    }
    // Rendered now: the engine keeps mutating its run object after reporting it.
    const queued = { rank, message: this.views.progress(run), runId: run.id };
    if (existing) {
      existing.queued = queued;
      return;
    }
    const entry: PendingUpdate = { queued, done: Promise.resolve() };
    this.pending.set(key, entry);
    entry.done = (async () => {
      while (entry.queued) {
        await this.pacer.acquire(channel);
        // The newest state reported while this update waited for its turn.
        const next = entry.queued;
        delete entry.queued;
        const last = this.sent.get(key);
        if (last && isOlder(next.rank, last)) continue;
        try {
          await this.client.chat.update({
            channel,
            ts,
            text: next.message.text,
            blocks: next.message.blocks,
          });
          this.sent.set(key, next.rank);
        } catch (e) {
          const err = chatError('progress update', channel, e);
          this.opts.logger?.warn({ runId: next.runId, err }, 'progress not updated');
        }
      }
      this.pending.delete(key);
    })();
  }
}
