/**
 * Key slots at issuers with a key limit (IAM: two per user), read by the plan and by the run's
 * `makeRoom`: outside the steps, so planning in the web role loads no step.
 */
import { issuerPolicy, type CredentialSpec } from '../domain/credential';
import { safeMessage } from '../domain/errors';
import { describeSlots, keyLabelPrefix, keySlots, type SlotDecision } from '../domain/key-slots';
import type { Issuer, StoredCredential } from '../domain/ports';

/** The key-slot decision for an issuer with a key limit (IAM: two per user); undefined when unlimited. */
export async function slotsAt(
  spec: CredentialSpec,
  issuer: Issuer,
  stored: StoredCredential | undefined,
): Promise<SlotDecision | undefined> {
  if (issuer.keyLimit === undefined) return undefined;
  return keySlots({
    keys: await issuer.list(),
    limit: issuer.keyLimit,
    ours: (label) => label.startsWith(keyLabelPrefix(spec.name)),
    inUse: [stored?.keyId, stored?.previousKeyId].filter((k): k is string => !!k),
    mayDeleteForeignInactive: issuerPolicy(spec.issuer).deleteForeignInactiveKey === true,
  });
}

/** The plan's line about key slots; a failure to count is said, not hidden. */
export async function keySlotNote(
  spec: CredentialSpec,
  issuer: Issuer,
  stored: StoredCredential | undefined,
): Promise<string | undefined> {
  try {
    const d = await slotsAt(spec, issuer, stored);
    return d && describeSlots(d, spec.issuer.name);
  } catch (e) {
    return `⚠️ the keys at ${spec.issuer.name} could not be counted (${safeMessage(e)}): the run checks again before creating one`;
  }
}
