/**
 * Key slots at issuers with a key limit (IAM: two per user), read by the plan and by the run's
 * `makeRoom`: outside the steps, so planning in the web role loads no step.
 */
import { issuerPolicy, type CredentialSpec } from '../domain/credential';
import { safeMessage } from '../domain/errors';
import { describeSlots, keyLabelPrefix, keySlots, type SlotDecision } from '../domain/key-slots';
import type { Issuer, StoredCredential } from '../domain/ports';
import type { Run } from '../domain/run';
import type { RunStore } from '../queue/run-store';

/** A run whose deactivated old key still exists at the issuer, as far as the run knows. */
const retiring = (run: Run): boolean =>
  !!run.facts.oldKeyId && !!run.facts.oldKeyDeactivatedAt && !run.facts.oldKeyDeletedAt;

/**
 * Old keys that runs of ours retired (deactivated, kept, or reactivated) and did not delete yet:
 * Vault forgets them once a run records, so only the runs know they are not orphans or foreign keys.
 */
export async function retiredKeys(
  runs: RunStore,
  credential: string,
  issuer: Issuer,
): Promise<Array<{ keyId: string; run: Run }>> {
  // Only issuers that can switch a key off leave retired keys behind: the others skip the read.
  if (!issuer.deactivate) return [];
  return (await runs.all(credential)).filter(retiring).map((run) => ({ keyId: run.facts.oldKeyId!, run }));
}

/** The key-slot decision for an issuer with a key limit (IAM: two per user); undefined when unlimited. */
export async function slotsAt(
  spec: CredentialSpec,
  issuer: Issuer,
  stored: StoredCredential | undefined,
  retired: string[],
): Promise<SlotDecision | undefined> {
  if (issuer.keyLimit === undefined) return undefined;
  return keySlots({
    keys: await issuer.list(),
    limit: issuer.keyLimit,
    ours: (label) => label.startsWith(keyLabelPrefix(spec.name)),
    inUse: [stored?.keyId, stored?.previousKeyId].filter((k): k is string => !!k),
    retired,
    mayDeleteForeignInactive: issuerPolicy(spec.issuer).deleteForeignInactiveKey === true,
  });
}

/** The plan's line about key slots; a failure to count is said, not hidden. */
export async function keySlotNote(
  spec: CredentialSpec,
  issuer: Issuer,
  stored: StoredCredential | undefined,
  runs: RunStore,
): Promise<string | undefined> {
  try {
    if (issuer.keyLimit === undefined) return undefined;
    const retired = (await retiredKeys(runs, spec.name, issuer)).map((r) => r.keyId);
    const d = await slotsAt(spec, issuer, stored, retired);
    return d && describeSlots(d, spec.issuer.name);
  } catch (e) {
    return `⚠️ the keys at ${spec.issuer.name} could not be counted (${safeMessage(e)}): the run checks again before creating one`;
  }
}
