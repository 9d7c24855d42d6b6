import { RotatorError } from '../../domain/errors';
import { done, since, wait, type StepContext, type StepOutcome } from '../context';
import { holdsNewKey, readTruth, waitForStore } from './store-truth';

/**
 * Runbook step 6. Before revoking, the old key's last use is checked: a use after every declared
 * consumer was redeployed means a consumer the catalog does not know (the runbook's "Cannot revoke
 * old credential"), and revocation is refused. After revoking, the old key must be rejected, re-checked
 * across the provider's propagation delay.
 */
export async function revokeOld(ctx: StepContext): Promise<StepOutcome> {
  const { run, spec, issuer, deps } = ctx;
  const oldKeyId = run.facts.oldKeyId;
  if (!oldKeyId) {
    throw new RotatorError(
      'issuer_rejected',
      `secret/${spec.store} did not record the old key's id (api_key_id): revoke it at ${spec.issuer.name} by hand`,
      { context: { hint: 'cannot_revoke_old' } },
    );
  }
  if (!run.facts.revokedAt) {
    const quietFor = run.facts.deployedAt ? since(ctx, run.facts.deployedAt) : Infinity;
    if (quietFor < deps.settings.quietWindowMs) {
      return {
        kind: 'wait',
        delayMs: Math.min(deps.settings.quietWindowMs - quietFor, deps.settings.pollIntervalMs * 10),
        detail: `watching old key ${oldKeyId} for use by an undeclared consumer before revoking it`,
      };
    }
    // Read the truth back before the one irreversible act: Vault must serve the new key by now.
    const truth = await readTruth(ctx);
    if (!truth.known)
      return waitForStore(ctx, truth.reason, `old key ${oldKeyId} stays active until it answers`);
    if (!holdsNewKey(truth.current, run)) {
      throw new RotatorError(
        'store_conflict',
        `secret/${spec.store} does not hold this run's new key (version ${truth.current?.version ?? 'none'}): old key ${oldKeyId} was not revoked`,
        { context: { hint: 'cannot_revoke_old' } },
      );
    }
    const open = await issuer.openSessions?.(oldKeyId);
    if (open && open.count > 0 && open.loginOpen) {
      // Locking the login would not close them; a consumer still connected after every declared one
      // was redeployed is one the catalog does not know, and it would fail at its next connection.
      throw new RotatorError(
        'old_key_in_use',
        `${open.count} connection(s) still open as old login ${oldKeyId} (${open.source}) after every declared consumer was redeployed: find them, drain their connection pool, then lock ${oldKeyId}; it was not locked`,
        { context: { hint: 'app_401_cached', keyId: oldKeyId, openSessions: open.count } },
      );
    }
    if (open && open.count > 0) run.facts.oldSessionsOpen = `${open.count} (${open.source})`;
    const lastUsed = await issuer.lastUsed(oldKeyId);
    if (lastUsed) run.facts.oldKeyLastUsedAt = lastUsed.toISOString();
    const deployedAt = run.facts.deployedAt ? Date.parse(run.facts.deployedAt) : undefined;
    if (lastUsed && deployedAt !== undefined && lastUsed.getTime() > deployedAt) {
      throw new RotatorError(
        'old_key_in_use',
        `old key ${oldKeyId} was used at ${lastUsed.toISOString()}, after every declared consumer was redeployed (${run.facts.deployedAt}): an undeclared consumer still uses it, so it was not revoked`,
        { context: { hint: 'cannot_revoke_old', keyId: oldKeyId, lastUsedAt: lastUsed.toISOString() } },
      );
    }
    await issuer.revoke(oldKeyId);
    run.facts.revokedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }
  const old = (await deps.store.read(spec.store))?.previousValue;
  if (old && (await issuer.accepts(old))) {
    if (since(ctx, run.facts.revokedAt) > deps.settings.propagationMs) {
      throw new RotatorError(
        'old_key_still_active',
        `old key ${oldKeyId} is still accepted ${Math.round(deps.settings.propagationMs / 60000)} minutes after revocation`,
        { context: { hint: 'old_key_active_after_revoke' } },
      );
    }
    return wait(ctx, `old key ${oldKeyId} revoked, waiting for the provider to reject it`);
  }
  const drain = run.facts.oldSessionsOpen
    ? `; connections still open on the old password: ${run.facts.oldSessionsOpen}, connection pools may require pool drain`
    : '';
  return done(`old key ${oldKeyId} revoked and rejected${drain}`);
}
