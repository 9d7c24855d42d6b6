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
 * How close to now a scheduler's next tick counts as at risk: reading the scheduler and upserting
 * it are two round trips, and a tick that falls due between them is replaced by the next one.
 */
export const TICK_MARGIN_MS = 60_000;

/**
 * Registers the reminder's job scheduler; every worker replica calls it at start.
 *
 * BullMQ keeps one pending job per scheduler and, when a worker takes it, schedules the next tick
 * from *now*: ticks missed while every worker was down collapse into that one pending job, never
 * one per missed week. But `upsertJobScheduler` replaces a pending job that is already due with
 * the next future tick, which would drop the missed one; and a tick due within TICK_MARGIN_MS can
 * fall due between the read and the upsert (a replica starting right around a tick). So such a
 * tick is first added as its own job, run at the tick, with an id derived from the tick
 * (replicas starting together add it once). The processor claims each tick once, so the
 * scheduler's job and this one never both post it.
 */
export async function scheduleReminders(
  queue: Queue,
  schedule: { pattern: string; tz: string },
  now: number = Date.now(),
): Promise<{ missedTick?: number }> {
  const existing = await queue.getJobScheduler(REMINDER_JOB);
  const next = existing?.next ?? undefined;
  const atRisk = next !== undefined && next !== null && next <= now + TICK_MARGIN_MS ? next : undefined;
  if (atRisk !== undefined) {
    await queue.add(REMINDER_JOB, { tick: atRisk } satisfies ReminderJobData, {
      jobId: missedReminderJobId(atRisk),
      delay: Math.max(0, atRisk - now),
    });
  }
  await queue.upsertJobScheduler(
    REMINDER_JOB,
    { pattern: schedule.pattern, tz: schedule.tz },
    { name: REMINDER_JOB, data: {} satisfies ReminderJobData },
  );
  return atRisk !== undefined ? { missedTick: atRisk } : {};
}

/** The tick a reminder job stands for: a missed tick's own, or the scheduler's (`repeat:<id>:<ms>`). */
export function tickOf(job: Pick<Job<ReminderJobData>, 'id' | 'data' | 'timestamp'>): number {
  if (typeof job.data.tick === 'number') return job.data.tick;
  const m = /:(\d+)$/.exec(job.id ?? '');
  return m ? Number(m[1]) : job.timestamp;
}
