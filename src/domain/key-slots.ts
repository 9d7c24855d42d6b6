import type { IssuedKeyInfo } from './ports';

/** The label prefix of every key a run of ours creates for `credential`. */
export const keyLabelPrefix = (credential: string): string => `rotator/${credential}/`;

/** Whether a rotation can create its new key at an issuer that holds at most `limit` keys. */
export type SlotDecision =
  | { kind: 'room'; used: number; limit: number; orphans: string[] }
  /** Full, but an inactive key no run of ours created may be deleted first (the catalog allows it). */
  | { kind: 'free'; used: number; limit: number; keyId: string }
  | { kind: 'full'; used: number; limit: number; reason: string };

export interface SlotInput {
  keys: IssuedKeyInfo[];
  limit: number;
  /** Whether a key's label says a run of ours created it. */
  ours: (label: string) => boolean;
  /** Key ids the store holds (current, previous): never candidates. */
  inUse: string[];
  /**
   * Old keys a run of ours deactivated whose deletion is still pending (inactive, kept, or
   * reactivated by an approver): never orphans, never foreign, deleted only by their own job.
   */
  retired: string[];
  mayDeleteForeignInactive: boolean;
}

/**
 * Room for one more key: orphans of ours (active, labelled ours, unknown to the store) are swept
 * before the create, so they do not count; a foreign inactive key is deleted only when allowed;
 * anything else refuses, so a third key is never attempted.
 */
export function keySlots(input: SlotInput): SlotDecision {
  const { keys, limit } = input;
  const used = keys.length;
  const known = new Set([...input.inUse, ...input.retired]);
  const retired = new Set(input.retired);
  const orphans = keys
    .filter((k) => input.ours(k.label) && k.status === 'active' && !known.has(k.keyId))
    .map((k) => k.keyId);
  if (used - orphans.length < limit) return { kind: 'room', used, limit, orphans };
  const inactive = keys.filter((k) => k.status === 'inactive' && !input.inUse.includes(k.keyId));
  const foreign = inactive.find((k) => !input.ours(k.label) && !retired.has(k.keyId));
  if (foreign && input.mayDeleteForeignInactive) return { kind: 'free', used, limit, keyId: foreign.keyId };
  const ids = keys.map((k) => `${k.keyId} ${k.status}`).join(', ');
  let reason: string;
  if (foreign) {
    reason = `inactive key ${foreign.keyId} was not created by a rotation: delete it by hand, or allow the rotator to (issuer.deleteForeignInactiveKey)`;
  } else if (inactive.length > 0) {
    reason = `key ${inactive[0]!.keyId}, deactivated by an earlier rotation, awaits its deletion: wait for it or delete it first`;
  } else {
    reason = 'every key is active: find the unused one and delete it by hand';
  }
  return { kind: 'full', used, limit, reason: `${used} of ${limit} keys exist (${ids}); ${reason}` };
}

/** One line for the plan. */
export function describeSlots(d: SlotDecision, where: string): string {
  switch (d.kind) {
    case 'room':
      return d.orphans.length > 0
        ? `${where}: ${d.used} of ${d.limit} keys, ${d.orphans.join(', ')} orphaned by an earlier run and deleted first: room for the new key`
        : `${where}: ${d.used} of ${d.limit} keys: room for the new key`;
    case 'free':
      return `${where}: ${d.used} of ${d.limit} keys: inactive key ${d.keyId}, which no rotation created, is deleted first (issuer.deleteForeignInactiveKey)`;
    case 'full':
      return `⚠️ ${where}: the run will refuse — ${d.reason}`;
  }
}
