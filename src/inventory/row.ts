import type { CredentialSpec } from '../domain/credential';
import type { InventoryRow, InventoryStatus } from '../domain/inventory';
import { assessAge, daysUntil, type AgeAssessment, type AgeStatus } from '../domain/policy';
import type { StoredCredential } from '../domain/ports';

/**
 * The policy age of a credential: from the store's rotated_at, falling back to the KV version's
 * created_time (the runbook's expiry script). The one place age is computed, for the inventory,
 * plans and `/rotate status`.
 */
export function credentialAge(
  spec: Pick<CredentialSpec, 'type' | 'risk'>,
  stored: Pick<StoredCredential, 'rotatedAt' | 'createdTime'> | undefined,
  now: Date,
  warnDays: number,
): AgeAssessment {
  return assessAge({
    type: spec.type,
    risk: spec.risk,
    rotatedAt: stored?.rotatedAt,
    createdTime: stored?.createdTime,
    now,
    warnDays,
  });
}

const STATUS: Record<AgeStatus, InventoryStatus> = {
  ok: 'ok',
  due_soon: 'due-soon',
  overdue: 'overdue',
  unknown: 'unknown',
};

/** What a row knows of Vault: the current version, nothing found, or why it could not be read. */
export type VaultLook =
  | { kind: 'found'; stored: StoredCredential }
  | { kind: 'absent'; listed: boolean }
  | { kind: 'failed'; reason: string; listed: boolean };

const storedFields = (s: StoredCredential) => ({
  createdTime: s.createdTime,
  currentVersion: s.version,
  ...(s.rotatedAt ? { rotatedAt: s.rotatedAt } : {}),
  ...(s.rotatedBy ? { rotatedBy: s.rotatedBy } : {}),
});

/** One inventory row from the catalog entry (if any) and what Vault answered for its path. */
export function inventoryRow(
  spec: CredentialSpec | undefined,
  path: string,
  look: VaultLook,
  now: Date,
  warnDays: number,
): InventoryRow {
  const name = spec?.name ?? path.slice(path.lastIndexOf('/') + 1);
  const base: InventoryRow = {
    name,
    path,
    inCatalog: spec !== undefined,
    inVault: look.kind === 'found' || look.listed,
    status: 'unknown',
    ...(spec
      ? {
          type: spec.type,
          risk: spec.risk,
          ...(spec.channel ? { channel: spec.channel } : {}),
          contact: spec.contact,
        }
      : {}),
  };
  if (look.kind === 'failed') return { ...base, reason: look.reason };
  if (look.kind === 'absent') {
    // Listed but unreadable: the current version was deleted or destroyed.
    if (look.listed) return { ...base, reason: 'current version deleted or destroyed in Vault' };
    if (!spec) return { ...base, reason: 'not in Vault' };
    return { ...base, status: 'never-rotated', reason: `nothing stored at secret/${path}` };
  }
  const stored = look.stored;
  if (!spec) return { ...base, ...storedFields(stored), reason: 'not in the catalog: no policy applies' };
  const age = credentialAge(spec, stored, now, warnDays);
  const row: InventoryRow = {
    ...base,
    ...storedFields(stored),
    maxAgeDays: age.maxAgeDays,
    status: STATUS[age.status],
  };
  if (age.ageDays === undefined || age.dueAt === undefined)
    return { ...row, reason: 'neither rotated_at nor created_time is a timestamp' };
  return {
    ...row,
    ageDays: age.ageDays,
    ...(age.measuredFrom ? { measuredFrom: age.measuredFrom } : {}),
    dueAt: age.dueAt,
    // Rounded down from the due date: half a day overdue is -1, not "in 0 days".
    daysLeft: daysUntil(age.dueAt, now),
  };
}

const AGE_STATUS: Record<InventoryStatus, AgeStatus> = {
  ok: 'ok',
  'due-soon': 'due_soon',
  overdue: 'overdue',
  'never-rotated': 'unknown',
  unknown: 'unknown',
};

/** A row's age as the policy views (`describeAge`, the due list) show it. */
export function ageOfRow(row: InventoryRow): AgeAssessment {
  return {
    status: AGE_STATUS[row.status],
    maxAgeDays: row.maxAgeDays ?? 0,
    ...(row.ageDays !== undefined ? { ageDays: row.ageDays } : {}),
    ...(row.dueAt ? { dueAt: row.dueAt } : {}),
    ...(row.measuredFrom ? { measuredFrom: row.measuredFrom } : {}),
  };
}

const URGENCY: Record<InventoryStatus, number> = {
  overdue: 0,
  'never-rotated': 1,
  'due-soon': 2,
  unknown: 3,
  ok: 4,
};

/** Most urgent first: by status, then the earliest due date, then name. */
export function byUrgency(rows: InventoryRow[]): InventoryRow[] {
  const keyed = rows.map((r) => ({ r, due: r.dueAt ? Date.parse(r.dueAt) : Infinity }));
  keyed.sort(
    (a, b) =>
      URGENCY[a.r.status] - URGENCY[b.r.status] ||
      a.due - b.due ||
      (a.r.name < b.r.name ? -1 : a.r.name > b.r.name ? 1 : 0),
  );
  return keyed.map((k) => k.r);
}
