import { createRequire } from 'node:module';
import type { Job, Queue } from 'bullmq';
import type { CronExpressionParser as Parser } from 'cron-parser';
import { missedReminderJobId, REMINDER_JOB, type ReminderJobData } from './names';

/**
 * The cron-parser BullMQ itself schedules with: its own copy when it pins one (it does:
 * bullmq/node_modules/cron-parser), else the one beside it. Loaded on first use, at start-up.
 */
let parser: typeof Parser | undefined;
const bullmqCronParser = (): typeof Parser =>
  (parser ??= (
    createRequire(require.resolve('bullmq/package.json'))('cron-parser') as {
      CronExpressionParser: typeof Parser;
    }
  ).CronExpressionParser);

/**
 * Why `pattern` is not a cron pattern BullMQ can schedule in `tz` (REMINDER_TZ) (its own parser
 * says), or undefined. Check `tz` first (`timeZoneProblem`): an unknown zone fails here too.
 */
export function cronProblem(pattern: string, tz: string): string | undefined {
  try {
    bullmqCronParser().parse(pattern, { tz }).next();
    return undefined;
  } catch (e) {
    return `must be a cron pattern such as "0 9 * * 1" (Monday 09:00): ${(e as Error).message}`;
  }
}

/** Why `tz` is not an IANA time zone this runtime knows, or undefined. */
export function timeZoneProblem(tz: string): string | undefined {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return undefined;
  } catch {
    return `must be an IANA time zone such as UTC or Europe/Paris, not ${JSON.stringify(tz)}`;
  }
}

/**
 * Registers the reminder's job scheduler; every worker replica calls it at start.
 *
 * BullMQ keeps one pending job per scheduler and, when a worker takes it, schedules the next tick
 * from *now*: ticks missed while every worker was down collapse into that one pending job, never
 * one per missed week. But `upsertJobScheduler` replaces a pending job that is already due with
 * the next future tick, which would drop the missed one: so a tick found overdue is first added
 * as its own job, with an id derived from the tick (replicas starting together add it once). The
 * processor claims each tick once, so the scheduler's job and this one never both post it.
 */
export async function scheduleReminders(
  queue: Queue,
  schedule: { pattern: string; tz: string },
  now: number = Date.now(),
): Promise<{ missedTick?: number }> {
  const existing = await queue.getJobScheduler(REMINDER_JOB);
  const next = existing?.next ?? undefined;
  const missed = next !== undefined && next !== null && next <= now ? next : undefined;
  if (missed !== undefined) {
    await queue.add(REMINDER_JOB, { tick: missed } satisfies ReminderJobData, {
      jobId: missedReminderJobId(missed),
    });
  }
  await queue.upsertJobScheduler(
    REMINDER_JOB,
    { pattern: schedule.pattern, tz: schedule.tz },
    { name: REMINDER_JOB, data: {} satisfies ReminderJobData },
  );
  return missed !== undefined ? { missedTick: missed } : {};
}

/** The tick a reminder job stands for: a missed tick's own, or the scheduler's (`repeat:<id>:<ms>`). */
export function tickOf(job: Pick<Job<ReminderJobData>, 'id' | 'data' | 'timestamp'>): number {
  if (typeof job.data.tick === 'number') return job.data.tick;
  const m = /:(\d+)$/.exec(job.id ?? '');
  return m ? Number(m[1]) : job.timestamp;
}
