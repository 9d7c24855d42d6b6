import { RotatorError } from '../../domain/errors';
import type { StoredCredential } from '../../domain/ports';
import type { StepContext } from '../context';
import { slotsAt } from '../key-slot-note';

/**
 * Before anything is created: room for the new key, or the one allowed deletion of a foreign
 * inactive key, or a refusal (`key_limit`). Never a create that the issuer would refuse.
 */
export async function makeRoom(
  ctx: StepContext,
  stored: StoredCredential,
  retired: string[],
): Promise<string | undefined> {
  const d = await slotsAt(ctx.spec, ctx.issuer, stored, retired);
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
