import type { Logger as PinoLogger } from 'pino';
import type { AuditLog } from '../domain/ports';
import type { ManualGate } from '../procedures/manual-gate';
import type { RotationRequests } from '../procedures/types';
import type { ApprovalStore } from './approvals';
import type { Authorization } from './authorization';
import type { EmergencyRequestStore } from './emergency-requests';
import type { Reminders } from './reminders';
import type { ReviewStore } from './reviews';
import type { SlackRequestJobData } from './slack-requests';

/** What the Slack listeners need. Commands plan and enqueue through `requests`; jobs execute. */
export interface CommandDeps {
  requests: RotationRequests;
  authorization: Authorization;
  approvals: ApprovalStore;
  /** Emergencies awaiting their one deliberate click. */
  emergencies: EmergencyRequestStore;
  /** After-the-fact reviews of emergency runs. */
  reviews: ReviewStore;
  /** The digests (`/rotate due`) and owners' snoozes. */
  reminders: Reminders;
  /** INCIDENT_CHANNEL_PATTERN: a channel whose name matches gives the incident reference. */
  incidentChannelPattern: RegExp;
  audit: AuditLog;
  /** Manual rotations' Stored / Revoked clicks; absent where no worker wiring is given (tests). */
  manual?: Pick<ManualGate, 'confirm'>;
  logger: PinoLogger;
  /**
   * Hands a `/rotate`'s slow work (plans, requests, status reads) to the workers. Absent (tests of
   * the listeners alone), the listener does that work itself.
   */
  enqueueRequest?: (request: SlackRequestJobData) => Promise<void>;
  now: () => Date;
  /** Closes the plan message when the request expires undecided (a delayed job); optional in tests. */
  scheduleExpiry?: (requestId: string, atMs: number) => Promise<void>;
  /** Retries closing an approved plan with `line` later (a delayed job), when Slack refused the edit. */
  scheduleClose?: (requestId: string, line: string) => Promise<void>;
  /**
   * Enqueues the reactivation of a run's deactivated old key (a maintenance job executes it:
   * commands never call an issuer). `identity` is the approver, for the audit record.
   */
  reactivateOldKey?: (runId: string, identity: string) => Promise<void>;
}
