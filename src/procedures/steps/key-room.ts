import { issuerPolicy, type CredentialSpec } from '../../domain/credential';
import { RotatorError, safeMessage } from '../../domain/errors';
import { describeSlots, keySlots, type SlotDecision } from '../../domain/key-slots';
import type { Issuer, StoredCredential } from '../../domain/ports';
import type { StepContext } from '../context';
import { keyLabelPrefix } from './generate';

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

/**
 * Before anything is created: room for the new key, or the one allowed deletion of a foreign
 * inactive key, or a refusal (`key_limit`). Never a create that the issuer would refuse.
 */
export async function makeRoom(ctx: StepContext, stored: StoredCredential): Promise<string | undefined> {
  const d = await slotsAt(ctx.spec, ctx.issuer, stored);
  if (!d) return undefined;
  if (d.kind === 'full') {
    throw new RotatorError('key_limit', `${ctx.spec.issuer.name}: ${d.reason}. Nothing was created`, {
      context: { hint: 'cannot_revoke_old' },
    });
  }
  if (d.kind === 'free') {
    await ctx.issuer.revoke(d.keyId);
    return `deleted inactive key ${d.keyId}, which no rotation created, to make room`;
  }
  return `${d.used - d.orphans.length} of ${d.limit} keys in use`;
}
