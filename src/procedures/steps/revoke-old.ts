import { issuerPolicy } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { OpenSessions } from '../../domain/ports';
import { done, since, type StepContext, type StepOutcome } from '../context';
import { holdsNewKey, readTruth, recentStore, waitForStore } from './store-truth';

/**
 * Runbook step 6. Before revoking, the old key's last use is checked: a use after every declared
 * consumer was redeployed means a consumer the catalog does not know (the runbook's "Cannot revoke
 * old credential"), and revocation is refused. After revoking, the old key must be rejected, re-checked
 * across the provider's propagation delay. Where the issuer can switch a key off (AWS), the old key
 * is deactivated instead, and its deletion is a delayed job after the issuer's grace period: a
 * forgotten consumer can still be rescued by reactivating it.
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
  const timing = issuerPolicy(spec.issuer);
  const quietWindowMs = timing.quietWindowMs ?? deps.settings.quietWindowMs;
  const deactivate = timing.deleteAfterMs !== undefined ? issuer.deactivate?.bind(issuer) : undefined;
  if (!run.facts.revokedAt) {
    const quietFor = run.facts.deployedAt ? since(ctx, run.facts.deployedAt) : Infinity;
    if (quietFor < quietWindowMs) {
      return {
        kind: 'wait',
        delayMs: Math.min(quietWindowMs - quietFor, deps.settings.pollIntervalMs * 10),
        detail: `watching old key ${oldKeyId} for use by an undeclared consumer before revoking it`,
      };
    }
    // Read the truth back before the one irreversible act: Vault must serve the new key by now.
    // The issuer's reads (open sessions, then the last use) go alongside: they decide nothing
    // until Vault has answered, and the quiet window is over either way.
    const usage = (async () => {
      const open = await issuer.openSessions?.(oldKeyId);
      if (open && open.count > 0 && open.loginOpen) return { open };
      return { open, lastUsed: await issuer.lastUsed(oldKeyId) };
    })();
    // Settled below whatever Vault answered: a rejection is not left unhandled.
    usage.catch(() => undefined);
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
    const { open, lastUsed } = await usage;
    if (open && open.count > 0 && open.loginOpen) return awaitDrain(ctx, oldKeyId, open);
    if (open && open.count > 0) run.facts.oldSessionsOpen = `${open.count} (${open.source})`;
    if (lastUsed) run.facts.oldKeyLastUsedAt = lastUsed.toISOString();
    const deployedAt = run.facts.deployedAt ? Date.parse(run.facts.deployedAt) : undefined;
    if (lastUsed && deployedAt !== undefined && lastUsed.getTime() > deployedAt) {
      throw new RotatorError(
        'old_key_in_use',
        `old key ${oldKeyId} was used at ${lastUsed.toISOString()}, after every declared consumer was redeployed (${run.facts.deployedAt}): an undeclared consumer still uses it, so it was not revoked`,
        { context: { hint: 'cannot_revoke_old', keyId: oldKeyId, lastUsedAt: lastUsed.toISOString() } },
      );
    }
    if (deactivate) {
      await deactivate(oldKeyId);
      run.facts.oldKeyDeactivatedAt = ctx.now().toISOString();
    } else {
      await issuer.revoke(oldKeyId);
    }
    run.facts.revokedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }
  // Vault was read just before the revocation when it happened in this invocation: the same answer.
  const stored = await recentStore(ctx);
  const old = stored?.previousValue;
  if (old && (await issuer.accepts(old, stored.previousKeyId))) {
    if (since(ctx, run.facts.revokedAt) > deps.settings.propagationMs) {
      throw new RotatorError(
        'old_key_still_active',
        `old key ${oldKeyId} is still accepted ${Math.round(deps.settings.propagationMs / 60000)} minutes after revocation`,
        { context: { hint: 'old_key_active_after_revoke' } },
      );
    }
    return {
      kind: 'wait',
      delayMs: onGrid(ctx, run.facts.revokedAt),
      detail: `old key ${oldKeyId} revoked, waiting for the provider to reject it`,
    };
  }
  if (run.facts.oldKeyDeactivatedAt && timing.deleteAfterMs !== undefined) {
    return scheduleDeletion(ctx, oldKeyId, timing.deleteAfterMs);
  }
  const drain = run.facts.oldSessionsOpen
    ? `; connections still open on the old password: ${run.facts.oldSessionsOpen}, connection pools may require pool drain`
    : '';
  return done(`old key ${oldKeyId} revoked and rejected${drain}`);
}

/**
 * Until the next poll interval counted from the revocation. Each look is a job cycle late; waiting
 * a whole interval from there added that lateness up, one cycle per look, over a propagation that
 * can take ten looks. Counted from `from`, the looks stay where they were due.
 */
function onGrid(ctx: StepContext, from: string): number {
  const every = ctx.deps.settings.pollIntervalMs;
  return every - (Math.max(0, since(ctx, from)) % every);
}

/**
 * Connections still open on the old login: locking it would not close them, and their consumer would
 * fail at its next connection. Pools drain as they recycle connections, so the run looks again
 * (a delayed job, no worker held) for up to the issuer's drain timeout; a connection still open
 * after that belongs to a consumer the catalog does not know, and the lock is refused.
 */
async function awaitDrain(ctx: StepContext, oldKeyId: string, open: OpenSessions): Promise<StepOutcome> {
  const { run, spec, deps } = ctx;
  if (!run.facts.drainStartedAt) {
    run.facts.drainStartedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }
  const limitMs = issuerPolicy(spec.issuer).drainTimeoutMs ?? 0;
  const waited = since(ctx, run.facts.drainStartedAt);
  const minutes = Math.round(limitMs / 60_000);
  if (waited < limitMs) {
    return {
      kind: 'wait',
      delayMs: Math.min(limitMs - waited, deps.settings.pollIntervalMs * 10),
      detail: `${open.count} connection(s) still open as old login ${oldKeyId} (${open.source}): waiting up to ${minutes} minute(s) for the pools to drain before locking it`,
    };
  }
  throw new RotatorError(
    'old_key_in_use',
    `${open.count} connection(s) still open as old login ${oldKeyId} (${open.source}) ${minutes} minute(s) after every declared consumer was redeployed: find them, drain their connection pool, then lock ${oldKeyId}; it was not locked`,
    { context: { hint: 'app_401_cached', keyId: oldKeyId, openSessions: open.count } },
  );
}

/** The deactivated old key's deletion, a delayed job once its grace period is over (no worker waits). */
async function scheduleDeletion(ctx: StepContext, oldKeyId: string, graceMs: number): Promise<StepOutcome> {
  const { run, deps } = ctx;
  if (!deps.scheduleOldKeyDeletion) {
    throw new RotatorError('internal', `no job queue to delete old key ${oldKeyId} after its grace period`);
  }
  if (!run.facts.oldKeyDeleteAt) {
    const at = Date.parse(run.facts.oldKeyDeactivatedAt!) + graceMs;
    await deps.scheduleOldKeyDeletion(run, Math.max(0, at - ctx.now().getTime()));
    run.facts.oldKeyDeleteAt = new Date(at).toISOString();
  }
  return done(
    `old key ${oldKeyId} deactivated and rejected; deleted at ${run.facts.oldKeyDeleteAt} unless an approver reactivates it`,
  );
}
