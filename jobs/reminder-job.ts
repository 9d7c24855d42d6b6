import type { WebClient } from '@slack/web-api';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditLog } from '../src/domain/ports';
import type { ReminderJobData } from '../src/queue/names';
import { tickOf } from '../src/queue/reminder-schedule';
import type { Reminders } from '../src/slack/reminders';
import { describeSlackFailure, slackFailureOf } from '../src/slack/slack-errors';
import { MAX_BLOCKS } from '../src/slack/views';
import { channelRef, context } from '../src/slack/views/blocks';

export interface ReminderJobDeps {
  reminders: Reminders;
  /** Claims of ticks and the channels each tick was posted to. */
  redis: Redis;
  prefix: string;
  client: WebClient;
  audit: AuditLog;
  logger: Logger;
  /** SECURITY_CHANNEL: gets the digest of a channel that refuses it for good, with the reason. */
  securityChannel: string;
}

/** Slack's answers that no retry changes: the channel is gone, archived, or the bot is not in it. */
const FOR_GOOD = new Set(['channel_not_found', 'is_archived', 'not_in_channel']);

/** A tick's claim and its posted markers outlive any retry, and any catch-up of the same tick. */
const TICK_TTL_SECONDS = 30 * 86_400;

/**
 * One reminder tick: the digest of every channel with something due, posted once per tick and
 * channel. Whichever job stands for the tick first claims it (a missed tick's catch-up and the
 * scheduler's own job can both exist); a retry of the claiming job skips the channels already
 * posted. A channel that refuses for good (gone, archived, bot not in it) is done with: its digest
 * goes to SECURITY_CHANNEL with the reason, and is audited. Only a passing failure (rate limit,
 * Slack unreachable) fails the job, so BullMQ retries it, for the channels not yet posted.
 */
export function createReminderProcessor(deps: ReminderJobDeps) {
  return async (job: Job<ReminderJobData>) => {
    const tick = tickOf(job);
    const key = `${deps.prefix}:reminders:tick:${tick}`;
    const claimed = await deps.redis.set(key, job.id ?? '', 'EX', TICK_TTL_SECONDS, 'NX');
    if (!claimed && (await deps.redis.get(key)) !== job.id)
      return { tick, skipped: 'claimed by another job' };
    const tickIso = new Date(tick).toISOString();
    // One inventory for every channel of this attempt.
    const messages = await deps.reminders.messages(tickIso);
    let posted = 0;
    const refused: string[] = [];
    const failed: string[] = [];
    const done = async (marker: string, detail: string, action: 'reminder.posted' | 'reminder.refused') => {
      await deps.redis.set(marker, '1', 'EX', TICK_TTL_SECONDS);
      await deps.audit.record({
        credential: '*',
        action,
        outcome: action === 'reminder.posted' ? 'info' : 'refused',
        identity: 'schedule',
        detail,
      });
    };
    for (const { channel, view } of messages) {
      const marker = `${key}:posted:${channel}`;
      if (await deps.redis.exists(marker)) continue;
      try {
        await deps.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
      } catch (e) {
        const code = slackFailureOf(e)?.code;
        deps.logger.warn({ channel, tick: tickIso, slackError: code }, 'reminder digest not posted');
        if (code === undefined || !FOR_GOOD.has(code) || channel === deps.securityChannel) {
          failed.push(channel);
          continue;
        }
        const reason = describeSlackFailure({ code }, channel);
        const note = `The digest for ${channelRef(channel)} could not be posted there: ${reason}`;
        try {
          await deps.client.chat.postMessage({
            channel: deps.securityChannel,
            text: `${note} ${view.text}`,
            blocks: [context(`:warning: ${note}`), ...view.blocks].slice(0, MAX_BLOCKS),
          });
        } catch (e2) {
          const code2 = slackFailureOf(e2)?.code;
          deps.logger.warn(
            { channel: deps.securityChannel, tick: tickIso, slackError: code2 },
            'refused reminder digest not posted to the security channel',
          );
          failed.push(channel);
          continue;
        }
        refused.push(channel);
        await done(
          marker,
          `digest of ${tickIso} refused by ${channel} (${code}), posted to ${deps.securityChannel}: ${view.text}`,
          'reminder.refused',
        );
        continue;
      }
      posted += 1;
      await done(marker, `digest of ${tickIso} to ${channel}: ${view.text}`, 'reminder.posted');
    }
    if (failed.length)
      throw new Error(`reminder digests not posted to ${failed.join(', ')} (tick ${tickIso})`);
    return { tick, posted, refused, channels: messages.length };
  };
}
