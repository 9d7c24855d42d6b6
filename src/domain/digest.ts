/**
 * The weekly reminder digests, as data: per owning channel the credentials overdue (first) and due
 * within the warning window, with days left; those an owner snoozed; those whose state could not be
 * read; and the channel's drift. Pure: a function of the inventory, the snoozes, `now` and settings.
 */
import type { CredentialType, Risk } from './credential';
import type { DriftFinding, InventoryReport, InventoryRow } from './inventory';
import { assessAge, daysUntil } from './policy';

/** An owner's "not this week": the credential leaves the due list until `until`. */
export interface Snooze {
  credential: string;
  /** Slack user id of the owner who snoozed it. */
  by: string;
  /** ISO-8601. */
  at: string;
  until: string;
}

export interface DigestSettings {
  /** Where credentials without a channel, and Vault entries the catalog does not know, are reported. */
  securityChannel: string;
  /** DUE_SOON_DAYS: the warning window. */
  dueSoonDays: number;
}

export type DigestState = 'overdue' | 'never-rotated' | 'due-soon' | 'unknown';

export interface DigestRow {
  name: string;
  channel: string;
  state: DigestState;
  type?: CredentialType;
  risk?: Risk;
  maxAgeDays?: number;
  dueAt?: string;
  /** Whole days until dueAt, negative once overdue. */
  daysLeft?: number;
  /** Why the state is unknown (never a value). */
  reason?: string;
  snoozed?: Snooze;
}

export interface ChannelDigest {
  channel: string;
  /** Overdue and never rotated first (most overdue first), then due soon (soonest first). */
  due: DigestRow[];
  /** Due, but an owner snoozed them: listed with who and until when, without buttons. */
  snoozed: DigestRow[];
  unknown: DigestRow[];
  drift: DriftFinding[];
}

interface Assessed {
  state: DigestState | 'ok';
  dueAt?: string;
  daysLeft?: number;
  maxAgeDays?: number;
}

/**
 * The row's state at `now`, by the runbook's policy table (the same `assessAge` as plans and
 * `/rotate status`), from rotated_at falling back to created_time. Rows the inventory could not
 * read, or that have nothing to measure from, keep the inventory's status.
 */
function assess(row: InventoryRow, now: Date, s: DigestSettings): Assessed {
  if (row.status === 'unknown') return { state: 'unknown' };
  if (row.type && row.risk && (row.rotatedAt || row.createdTime)) {
    const a = assessAge({
      type: row.type,
      risk: row.risk,
      rotatedAt: row.rotatedAt,
      createdTime: row.createdTime,
      now,
      warnDays: s.dueSoonDays,
    });
    if (a.dueAt) {
      const state = a.status === 'due_soon' ? 'due-soon' : a.status === 'overdue' ? 'overdue' : 'ok';
      return { state, dueAt: a.dueAt, daysLeft: daysUntil(a.dueAt, now), maxAgeDays: a.maxAgeDays };
    }
  }
  if (row.status === 'never-rotated') return { state: 'never-rotated' };
  if (row.dueAt) {
    const daysLeft = daysUntil(row.dueAt, now);
    const late = Date.parse(row.dueAt) < now.getTime();
    return {
      state: late ? 'overdue' : daysLeft <= s.dueSoonDays ? 'due-soon' : 'ok',
      dueAt: row.dueAt,
      daysLeft,
      ...(row.maxAgeDays !== undefined ? { maxAgeDays: row.maxAgeDays } : {}),
    };
  }
  return { state: row.status === 'ok' ? 'ok' : row.status };
}

const RANK: Record<DigestState, number> = { 'never-rotated': 0, overdue: 1, 'due-soon': 2, unknown: 3 };

function byUrgency(a: DigestRow, b: DigestRow): number {
  return (
    RANK[a.state] - RANK[b.state] ||
    (a.daysLeft ?? -Infinity) - (b.daysLeft ?? -Infinity) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

const activeSnooze = (s: Snooze | undefined, now: Date) =>
  s && Date.parse(s.until) > now.getTime() ? s : undefined;

/** Drift goes to the channel of the credential it names; Vault entries nobody owns to security. */
function driftChannel(f: DriftFinding, channelOf: Map<string, string>, s: DigestSettings): string {
  return f.kind === 'vault-only' ? s.securityChannel : (channelOf.get(f.name) ?? s.securityChannel);
}

/**
 * Every channel with something to show (including only snoozed rows), sorted by channel id.
 * Credentials outside the catalog appear only as drift: nobody could rotate them from a button.
 */
export function channelDigests(
  report: InventoryReport,
  snoozes: ReadonlyMap<string, Snooze>,
  now: Date,
  settings: DigestSettings,
): ChannelDigest[] {
  const byChannel = new Map<string, ChannelDigest>();
  const of = (channel: string) => {
    let d = byChannel.get(channel);
    if (!d) byChannel.set(channel, (d = { channel, due: [], snoozed: [], unknown: [], drift: [] }));
    return d;
  };
  const channelOf = new Map<string, string>();
  for (const row of report.rows) {
    if (!row.inCatalog) continue;
    const channel = row.channel ?? settings.securityChannel;
    channelOf.set(row.name, channel);
    const a = assess(row, now, settings);
    if (a.state === 'ok') continue;
    const snooze = activeSnooze(snoozes.get(row.name), now);
    const out: DigestRow = {
      name: row.name,
      channel,
      state: a.state,
      ...(row.type ? { type: row.type } : {}),
      ...(row.risk ? { risk: row.risk } : {}),
      ...(a.maxAgeDays !== undefined ? { maxAgeDays: a.maxAgeDays } : {}),
      ...(a.dueAt ? { dueAt: a.dueAt } : {}),
      ...(a.daysLeft !== undefined ? { daysLeft: a.daysLeft } : {}),
      ...(row.reason ? { reason: row.reason } : {}),
      ...(snooze ? { snoozed: snooze } : {}),
    };
    const d = of(channel);
    if (a.state === 'unknown') d.unknown.push(out);
    else (snooze ? d.snoozed : d.due).push(out);
  }
  for (const f of report.drift) of(driftChannel(f, channelOf, settings)).drift.push(f);
  const digests = [...byChannel.values()].sort((a, b) => (a.channel < b.channel ? -1 : 1));
  for (const d of digests) {
    d.due.sort(byUrgency);
    d.snoozed.sort(byUrgency);
    d.unknown.sort(byUrgency);
  }
  return digests;
}

/**
 * The digests the weekly tick posts. "A channel with nothing due gets nothing": a channel gets one
 * only when something is due, overdue or never rotated for it (snoozes alone are not). What could
 * not be read and the drift of a channel with nothing due go to the security channel's digest,
 * which is posted when it holds anything at all. Sorted by channel id, as `channelDigests`.
 */
export function postedDigests(digests: ChannelDigest[], securityChannel: string): ChannelDigest[] {
  const security: ChannelDigest = digests.find((d) => d.channel === securityChannel) ?? {
    channel: securityChannel,
    due: [],
    snoozed: [],
    unknown: [],
    drift: [],
  };
  const posted: ChannelDigest[] = [];
  const unknown = [...security.unknown];
  const drift = [...security.drift];
  for (const d of digests) {
    if (d.channel === securityChannel) continue;
    if (d.due.length > 0) posted.push(d);
    else {
      unknown.push(...d.unknown);
      drift.push(...d.drift);
    }
  }
  if (security.due.length + unknown.length + drift.length > 0)
    posted.push({ ...security, unknown: unknown.sort(byUrgency), drift });
  return posted.sort((a, b) => (a.channel < b.channel ? -1 : 1));
}

/** Every channel's digest as one (`/rotate due all`), most urgent first across channels. */
export function mergeDigests(digests: ChannelDigest[]): ChannelDigest {
  return {
    channel: '',
    due: digests.flatMap((d) => d.due).sort(byUrgency),
    snoozed: digests.flatMap((d) => d.snoozed).sort(byUrgency),
    unknown: digests.flatMap((d) => d.unknown).sort(byUrgency),
    drift: digests.flatMap((d) => d.drift),
  };
}
