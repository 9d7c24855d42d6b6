import { RotatorError } from '../../domain/errors';
import type { StoredCredential } from '../../domain/ports';
import type { StepContext, StepOutcome } from '../context';
import { done, since } from '../context';
import { deployConsumers } from './deploy';
import { digestOf, holdsNewKey, readTruth, storeWritten, waitForStore } from './store-truth';
import { checkConsumers } from './verify';

function withinBudget(ctx: StepContext): void {
  const started = ctx.run.facts.rollbackStartedAt;
  if (started && since(ctx, started) > ctx.deps.settings.rollbackBudgetMs) {
    throw new RotatorError(
      'timeout',
      `rollback exceeded its ${Math.round(ctx.deps.settings.rollbackBudgetMs / 60000)}-minute budget: restore the previous value by hand`,
    );
  }
}

/** Whether Vault's current version is the pre-rotation key again (restored by this run or found so). */
const holdsOldKey = (ctx: StepContext, current: StoredCredential | undefined): boolean =>
  !!current && !!ctx.run.facts.oldKeyId && current.keyId === ctx.run.facts.oldKeyId;

/**
 * Where the rotation replaced the old value in place (a database user's password), the issuer takes
 * it back before any consumer is redeployed with it. Repeating it is harmless.
 */
async function reinstate(ctx: StepContext, restored: StoredCredential): Promise<void> {
  if (ctx.issuer.reinstate && restored.keyId && restored.value)
    await ctx.issuer.reinstate(restored.keyId, restored.value);
}

/** The redeploy compares the synced Secret with the restored value's digest, not a re-read of Vault. */
function restored(ctx: StepContext, version: number, value: StoredCredential['value']): void {
  const facts = ctx.run.facts;
  facts.restoredVersion = version;
  if (!value) return;
  facts.deploys ??= {};
  facts.deploys.rollback = { ...facts.deploys.rollback, valueDigest: digestOf(value) };
}

/**
 * Rollback 1: the pre-rotation version's content becomes current again (a new KV version, marked
 * with the run id). A write that fails or goes unanswered is read back: if the old key is current,
 * the restore landed.
 */
export async function restorePrevious(ctx: StepContext): Promise<StepOutcome> {
  withinBudget(ctx);
  const { spec, deps, run } = ctx;
  const truth = await readTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, 'the restore waits for it');
  const current = truth.current;
  if (holdsOldKey(ctx, current)) {
    restored(ctx, current!.version, current!.value);
    await reinstate(ctx, current!);
    return done(`secret/${spec.store} already holds the previous key (version ${current!.version})`);
  }
  const base =
    run.facts.baseVersion !== undefined
      ? await deps.store.read(spec.store, run.facts.baseVersion)
      : undefined;
  if (!current || !base?.value) {
    throw new RotatorError(
      'store_missing',
      `secret/${spec.store} version ${run.facts.baseVersion ?? '?'} cannot be read back`,
    );
  }
  try {
    storeWritten(ctx);
    const version = await deps.store.write(
      spec.store,
      {
        value: base.value,
        ...(base.keyId ? { keyId: base.keyId } : {}),
        ...(base.previousValue ? { previousValue: base.previousValue } : {}),
        ...(base.previousKeyId ? { previousKeyId: base.previousKeyId } : {}),
        ...(base.username ? { username: base.username } : {}),
        // The rotation did not happen: the credential keeps its age.
        rotatedAt: base.rotatedAt ?? base.createdTime,
        rotatedBy: base.rotatedBy ?? 'unknown',
        runId: run.id,
      },
      current.version,
    );
    restored(ctx, version, base.value);
    await reinstate(ctx, base);
    return done(`secret/${spec.store} version ${version} holds the previous key again`);
  } catch (e) {
    const after = await readTruth(ctx);
    if (!after.known) return waitForStore(ctx, after.reason, 'whether the restore landed is unknown');
    if (holdsOldKey(ctx, after.current)) {
      restored(ctx, after.current!.version, after.current!.value);
      await reinstate(ctx, after.current!);
      return done(`secret/${spec.store} version ${after.current!.version} holds the previous key again`);
    }
    throw e;
  }
}

/** Rollback 2: consumers get the previous value back. */
export async function redeployPrevious(ctx: StepContext): Promise<StepOutcome> {
  withinBudget(ctx);
  const facts = ctx.run.facts;
  facts.deploys ??= {};
  facts.deploys.rollback ??= {};
  return deployConsumers(ctx, facts.deploys.rollback, facts.deploys.forward);
}

/** Rollback 3: every consumer healthy on the previous key. */
export async function reverifyPrevious(ctx: StepContext): Promise<StepOutcome> {
  withinBudget(ctx);
  return checkConsumers(ctx, 'previous key');
}

/**
 * Rollback 4: the new key, now unused, is revoked at the issuer, but only once Vault, read back,
 * no longer serves it.
 */
export async function revokeNew(ctx: StepContext): Promise<StepOutcome> {
  const keyId = ctx.run.facts.newKeyId;
  if (!keyId) return done('no new key to revoke');
  const truth = await readTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, `new key ${keyId} stays active until it answers`);
  if (holdsNewKey(truth.current, ctx.run)) {
    throw new RotatorError(
      'store_conflict',
      `secret/${ctx.spec.store} still serves new key ${keyId} (version ${truth.current!.version}): it was not revoked`,
    );
  }
  await ctx.issuer.revoke(keyId);
  return done(`new key ${keyId} revoked; the previous key stays valid`);
}
