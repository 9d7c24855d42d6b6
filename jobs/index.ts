import { Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RotationEngine } from '../src/procedures/engine';
import type { RotationRequests } from '../src/procedures/types';
import type { WebClient } from '@slack/web-api';
import type { AuditLog } from '../src/domain/ports';
import {
  APPROVALS_QUEUE,
  MAINTENANCE_QUEUE,
  NOTIFICATIONS_QUEUE,
  REQUESTS_QUEUE,
  ROTATIONS_QUEUE,
  type ApprovalExpiryJobData,
  type NotificationJobData,
  type RequestJobData,
  type RotationJobData,
} from '../src/queue/names';
import type { ApprovalStore } from '../src/slack/approvals';
import { SLACK_REQUESTS_QUEUE, type SlackRequestJobData } from '../src/slack/slack-requests';
import type { ChannelOutbox } from '../src/slack/channel-outbox';
import type { IncidentBoard } from '../src/slack/incident-board';
import type { RunProgress } from '../src/slack/run-progress';
import { createApprovalExpiryProcessor } from './approval-expiry-job';
import { createMaintenanceProcessor } from './maintenance-job';
import type { DeadlineJobDeps } from './deadline-job';
import type { ReconcileJobDeps } from './reconcile-job';
import type { ReminderJobDeps } from './reminder-job';
import type { ScopeDeps } from '../src/procedures/scope';
import type { OldKeyDeps } from '../src/procedures/old-key-deletion';
import { createNotificationsProcessor } from './incident-board-job';
import { createPlanCloseProcessor } from './plan-close-job';
import { createRequestProcessor } from './request-job';
import { createRotationProcessor } from './rotation-job';
import { createSlackRequestProcessor, type SlackRequestJobDeps } from './slack-request-job';

export interface WorkerOptions {
  connection: Redis;
  prefix: string;
  concurrency: number;
  logger: Logger;
  /** Shorter in tests so a killed worker's job is picked up quickly. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** When given, this process also closes expired approval requests. */
  approvals?: { store: ApprovalStore; client: WebClient; audit: AuditLog };
  /** When given, this process also runs housekeeping: reconciler ticks, scope assessments, deadlines, reminders, old-key deletions. */
  maintenance?: {
    reconcile: ReconcileJobDeps;
    scope: ScopeDeps;
    deadlines: DeadlineJobDeps;
    reminders: ReminderJobDeps;
    oldKeys?: OldKeyDeps;
  };
  /** When given, this process also posts Slack notifications: incident and run messages, channel outboxes. */
  notifications?: { board: IncidentBoard; outbox: ChannelOutbox; progress: RunProgress };
  /** When given, this process also answers the `/rotate` commands the web role queued. */
  slackRequests?: SlackRequestJobDeps & { concurrency: number };
}

/** Starts the BullMQ workers of this process: rotation runs and CLI requests. */
export function registerWorkers(
  engine: RotationEngine,
  requests: RotationRequests,
  opts: WorkerOptions,
): Worker[] {
  const timing = {
    ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
  };
  const rotations = new Worker<RotationJobData>(ROTATIONS_QUEUE, createRotationProcessor(engine), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: opts.concurrency,
    // A run that stalls (its worker died) is resumed from its checkpoint, more than once if need be.
    maxStalledCount: 5,
    ...timing,
  });
  rotations.on('failed', (job, err) => {
    opts.logger.error(
      { runId: job?.data.runId, attempts: job?.attemptsMade, err: err.message },
      'rotation job failed',
    );
    // The last attempt (or an error retrying cannot fix): finish the run so its lock is released.
    const final =
      err.name === 'UnrecoverableError' ||
      (job !== undefined && job.attemptsMade >= (job.opts.attempts ?? 1));
    if (job && final) {
      engine
        .abandon(job.data.runId, err.message)
        .catch((e: unknown) =>
          opts.logger.error(
            { runId: job.data.runId, err: (e as Error).message },
            'abandoned run could not be closed',
          ),
        );
    }
  });
  const cli = new Worker<RequestJobData>(REQUESTS_QUEUE, createRequestProcessor(requests), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: 2,
    ...timing,
  });
  const workers: Worker[] = [rotations, cli];
  if (opts.approvals) {
    const a = opts.approvals;
    const expire = createApprovalExpiryProcessor({ approvals: a.store, client: a.client, audit: a.audit });
    const close = createPlanCloseProcessor({ approvals: a.store, client: a.client });
    workers.push(
      new Worker<ApprovalExpiryJobData>(
        APPROVALS_QUEUE,
        (job) => (job.name === 'close' ? close(job) : expire(job)),
        { connection: opts.connection, prefix: opts.prefix, concurrency: 2, ...timing },
      ),
    );
  }
  if (opts.maintenance) {
    workers.push(
      new Worker(MAINTENANCE_QUEUE, createMaintenanceProcessor(opts.maintenance), {
        connection: opts.connection,
        prefix: opts.prefix,
        concurrency: 4,
        ...timing,
      }),
    );
  }
  if (opts.notifications) {
    workers.push(
      new Worker<NotificationJobData>(
        NOTIFICATIONS_QUEUE,
        createNotificationsProcessor(
          opts.notifications.board,
          opts.notifications.outbox,
          opts.notifications.progress,
        ),
        {
          connection: opts.connection,
          prefix: opts.prefix,
          // Different incidents, runs and channels in parallel; each one is serialised by its Redis slot,
          // and none sleeps (a busy slot or a 429 defers the job), so a slot is never held waiting.
          concurrency: 8,
          ...timing,
        },
      ),
    );
  }
  if (opts.slackRequests) {
    workers.push(
      new Worker<SlackRequestJobData>(SLACK_REQUESTS_QUEUE, createSlackRequestProcessor(opts.slackRequests), {
        connection: opts.connection,
        prefix: opts.prefix,
        concurrency: opts.slackRequests.concurrency,
        ...timing,
      }),
    );
  }
  for (const w of workers) w.on('error', (err) => opts.logger.error({ err: err.message }, 'worker error'));
  return workers;
}
