import type { CredentialType, Risk } from './credential';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** The runbook's "Credential Rotation Schedule" table, in days. */
export const SCHEDULE: Record<CredentialType, Record<Risk, number>> = {
  api_key: { standard: 90, high: 30 },
  oauth_client_secret: { standard: 180, high: 90 },
  service_account_token: { standard: 90, high: 30 },
  database: { standard: 90, high: 30 },
  webhook_secret: { standard: 180, high: 90 },
};

/** Maximum delay once compromise is confirmed; 0 means immediate. */
export const EMERGENCY_DEADLINE_MS: Record<CredentialType, number> = {
  api_key: 0,
  oauth_client_secret: 0,
  service_account_token: 0,
  database: 4 * HOUR_MS,
  webhook_secret: 24 * HOUR_MS,
};

export function maxAgeDays(type: CredentialType, risk: Risk): number {
  return SCHEDULE[type][risk];
}

export function emergencyDeadlineMs(type: CredentialType): number {
  return EMERGENCY_DEADLINE_MS[type];
}

export type AgeStatus = 'ok' | 'due_soon' | 'overdue' | 'unknown';

export interface AgeAssessment {
  status: AgeStatus;
  /** Whole days since the last rotation, undefined when nothing tells. */
  ageDays?: number;
  maxAgeDays: number;
  /** When the credential falls due (ISO-8601), undefined when its age is unknown. */
  dueAt?: string;
  /** Which timestamp the age was measured from. */
  measuredFrom?: 'rotated_at' | 'created_time';
}

export interface AgeInput {
  type: CredentialType;
  risk: Risk;
  rotatedAt?: string;
  createdTime?: string;
  now: Date;
  warnDays?: number;
}

// RFC 3339 only: Date.parse would also take "1" (year 2001) or roll 2024-02-30 over into March.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function parseTime(s: string | undefined): number | undefined {
  const m = s ? RFC3339.exec(s) : null;
  if (!s || !m) return undefined;
  const t = Date.parse(s);
  if (Number.isNaN(t)) return undefined;
  const [, y, mo, d] = m;
  const day = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return undefined;
  return t;
}

/**
 * Whole days from `now` until `dueAt` (ISO): rounded up while not yet due, down once overdue (half a
 * day past due is -1, "overdue by 1 day", never 0). The one days-left the inventory and digests show.
 */
export const daysUntil = (dueAt: string, now: Date): number => {
  const days = (Date.parse(dueAt) - now.getTime()) / DAY_MS;
  // Not yet due counts up (rotated a second ago on a 30-day policy: "in 30 days"); past due counts
  // down (half a day late: "overdue by 1 day"), so an overdue row never reads "in 0 days".
  return days > 0 ? Math.ceil(days) : Math.floor(days);
};

/** Due / due-soon / overdue from `rotated_at`, falling back to the KV version's `created_time`. */
export function assessAge(input: AgeInput): AgeAssessment {
  const max = maxAgeDays(input.type, input.risk);
  const warnDays = input.warnDays ?? 14;
  const rotated = parseTime(input.rotatedAt);
  const created = parseTime(input.createdTime);
  const from = rotated ?? created;
  if (from === undefined) return { status: 'unknown', maxAgeDays: max };
  const ageMs = input.now.getTime() - from;
  const dueAt = from + max * DAY_MS;
  const status: AgeStatus =
    input.now.getTime() > dueAt
      ? 'overdue'
      : dueAt - input.now.getTime() <= warnDays * DAY_MS
        ? 'due_soon'
        : 'ok';
  return {
    status,
    ageDays: Math.max(0, Math.floor(ageMs / DAY_MS)),
    maxAgeDays: max,
    dueAt: new Date(dueAt).toISOString(),
    measuredFrom: rotated !== undefined ? 'rotated_at' : 'created_time',
  };
}

/** "97 days old, policy 90 days: overdue" */
export function describeAge(a: AgeAssessment): string {
  if (a.ageDays === undefined) return `age unknown, policy ${a.maxAgeDays} days`;
  const label = { ok: 'ok', due_soon: 'due soon', overdue: 'overdue', unknown: 'unknown' }[a.status];
  return `${a.ageDays} day${a.ageDays === 1 ? '' : 's'} old, policy ${a.maxAgeDays} days: ${label}`;
}
