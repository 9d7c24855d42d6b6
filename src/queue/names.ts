import type { Plan } from '../domain/plan';

export const ROTATIONS_QUEUE = 'rotations';

/** BullMQ jobId derived from the run: adding the same run twice returns the existing job. */
export const rotationJobId = (runId: string): string => `run-${runId}`;

export interface RotationJobData {
  runId: string;
}

/** Requests from the break-glass CLI, which holds only a Redis URL: the worker plans and starts for it. */
export const REQUESTS_QUEUE = 'requests';

/** What a worker answers the CLI: a plan (ids and names only) or the id of the run it started. */
export type RequestResult = { kind: 'plan'; plan: Plan } | { kind: 'rotate'; runId: string };

export interface RequestJobData {
  kind: 'plan' | 'rotate';
  credential: string;
  /** The OS user running the CLI: the audit identity. */
  user: string;
  /**
   * When the CLI stops waiting (epoch ms). A worker that takes the request later refuses it: nobody
   * would be watching the rotation it starts.
   */
  deadline: number;
}

/** How much time a request must have left for a worker to start it (the CLI must still see the answer). */
export const REQUEST_MARGIN_MS = 2_000;

/** Delayed jobs that close approval requests nobody decided, when they expire. */
export const APPROVALS_QUEUE = 'approvals';

export interface ApprovalExpiryJobData {
  requestId: string;
  /**
   * Set on `close` jobs: the line that closes an approved plan whose first close Slack refused
   * (mentions and a run id, nothing secret).
   */
  line?: string;
}

export const approvalExpiryJobId = (requestId: string): string => `expire-${requestId}`;
export const planCloseJobId = (requestId: string): string => `close-${requestId}`;

/** Housekeeping on a schedule: the reconciler and the reminders. One job per tick across replicas. */
export const MAINTENANCE_QUEUE = 'maintenance';
export const RECONCILE_JOB = 'reconcile';
/** The weekly digests: a job scheduler at REMINDER_CRON in REMINDER_TZ (also its jobs' name). */
export const REMINDER_JOB = 'reminders';

/** A tick every worker missed, posted once when one comes back (jobId from the tick: added once). */
export interface ReminderJobData {
  /** The missed tick (epoch ms); scheduled jobs carry theirs in their id. */
  tick?: number;
}

export const missedReminderJobId = (tick: number): string => `reminders-missed-${tick}`;
export const ASSESS_JOB = 'assess';
export const DEADLINE_JOB = 'deadline';

/** An emergency's scope assessment, beside its run. */
export interface AssessJobData {
  runId: string;
}

/** An emergency's deadline check: half-way and at the deadline, escalated if the run is unfinished. */
export interface DeadlineJobData {
  runId: string;
  kind: 'half' | 'deadline';
  deadlineMs: number;
}

/**
 * Slack notifications shared by every replica: the incident message's renders, each run's progress
 * message renders and each channel's outbox drains (one delayed job per incident, run or channel at
 * a time, paced in Redis), so pacing never holds a rotation's worker slot.
 */
export const NOTIFICATIONS_QUEUE = 'notifications';
export const INCIDENT_BOARD_JOB = 'incident-board';
export const CHANNEL_POST_JOB = 'channel-post';
export const RUN_PROGRESS_JOB = 'run-progress';
/**
 * A repeatable tick: schedules a drain for every channel whose outbox still holds items (a drain
 * job that used up its attempts, or one lost with its process, leaves them there).
 */
export const OUTBOX_RESUME_JOB = 'outbox-resume';

export interface IncidentBoardJobData {
  /** INC-…: the job renders whatever the incident's runs say when it runs. */
  ref: string;
}

export interface ChannelPostJobData {
  /** The job posts whatever waits in this channel's outbox when it runs (never a value). */
  channel: string;
}

export interface RunProgressJobData {
  /** The job renders the run's newest saved state into its progress message. */
  runId: string;
}

export type NotificationJobData =
  IncidentBoardJobData | ChannelPostJobData | RunProgressJobData | Record<string, never>;
/** A deactivated old key's deletion after its grace period (delayed), and an approver's reactivation. */
export const DELETE_OLD_KEY_JOB = 'delete-old-key';
export const REACTIVATE_OLD_KEY_JOB = 'reactivate-old-key';
export const deleteOldKeyJobId = (runId: string): string => `delete-old-key-${runId}`;

export interface OldKeyJobData {
  runId: string;
  /** Reactivation: who asked (slack:U…), for the audit record. */
  identity?: string;
}
