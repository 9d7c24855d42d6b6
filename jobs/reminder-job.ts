import type { WebClient } from '@slack/web-api';
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { AuditLog } from '../src/domain/ports';
import type { ReminderJobData } from '../src/queue/names';
import { tickOf } from '../src/queue/reminder-schedule';
import type { Reminders } from '../src/slack/reminders';

export interface ReminderJobDeps {
  reminders: Reminders;
  /** Claims of ticks and the channels each tick was posted to. */
  redis: Redis;
  prefix: string;
  client: WebClient;
  audit: AuditLog;
  logger: Logger;
}

/** A tick's claim and its posted markers outlive any retry, and any catch-up of the same tick. */
const TICK_TTL_SECONDS = 30 * 86_400;

/**
 * One reminder tick: the digest of every channel with something due, posted once per tick and
 * channel. Whichever job stands for the tick first claims it (a missed tick's catch-up and the
 * scheduler's own job can both exist); a retry of the claiming job skips the channels already
 * posted. A channel Slack refuses is retried with the job, the others are not posted again.
 */
export function createReminderProcessor(deps: ReminderJobDeps) {
  return async (job: Job<ReminderJobData>) => {
    const tick = tickOf(job);
    const key = `${deps.prefix}:reminders:tick:${tick}`;
    const claimed = await deps.redis.set(key, job.id ?? '', 'EX', TICK_TTL_SECONDS, 'NX');
    if (!claimed && (await deps.redis.get(key)) !== job.id)
      return { tick, skipped: 'claimed by another job' };
    const tickIso = new Date(tick).toISOString();
    const messages = await deps.reminders.messages(tickIso);
    let posted = 0;
    const failed: string[] = [];
    for (const { channel, view } of messages) {
      const marker = `${key}:posted:${channel}`;
      if (await deps.redis.exists(marker)) continue;
      try {
        await deps.client.chat.postMessage({ channel, text: view.text, blocks: view.blocks });
      } catch (e) {
        const code = (e as { data?: { error?: unknown } }).data?.error;
        deps.logger.warn({ channel, tick: tickIso, slackError: code }, 'reminder digest not posted');
        failed.push(channel);
        continue;
      }
      await deps.redis.set(marker, '1', 'EX', TICK_TTL_SECONDS);
      posted += 1;
      await deps.audit.record({
        credential: '*',
        action: 'reminder.posted',
        outcome: 'info',
        identity: 'schedule',
        detail: `digest of ${tickIso} to ${channel}: ${view.text}`,
      });
    }
    if (failed.length)
      throw new Error(`reminder digests not posted to ${failed.join(', ')} (tick ${tickIso})`);
    return { tick, posted, channels: messages.length };
  };
}
