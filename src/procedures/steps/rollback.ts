import { RotatorError } from '../../domain/errors';
import type { StepContext, StepOutcome } from '../context';
import { done, since } from '../context';
import { deployConsumers } from './deploy';
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

/** Rollback 1: the pre-rotation version's content becomes current again (a new KV version). */
export async function restorePrevious(ctx: StepContext): Promise<StepOutcome> {
  withinBudget(ctx);
  const { spec, deps, run } = ctx;
  const current = await deps.store.read(spec.store);
  if (current && run.facts.oldKeyId && current.keyId === run.facts.oldKeyId) {
    run.facts.restoredVersion = current.version;
    return done(`secret/${spec.store} already holds the previous key (version ${current.version})`);
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
  const version = await deps.store.write(
    spec.store,
    {
      value: base.value,
      ...(base.keyId ? { keyId: base.keyId } : {}),
      ...(base.previousValue ? { previousValue: base.previousValue } : {}),
      ...(base.previousKeyId ? { previousKeyId: base.previousKeyId } : {}),
      // The rotation did not happen: the credential keeps its age.
      rotatedAt: base.rotatedAt ?? base.createdTime,
      rotatedBy: base.rotatedBy ?? 'unknown',
    },
    current.version,
  );
  run.facts.restoredVersion = version;
  return done(`secret/${spec.store} version ${version} holds the previous key again`);
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

/** Rollback 4: the new key, now unused, is revoked at the issuer. */
export async function revokeNew(ctx: StepContext): Promise<StepOutcome> {
  const keyId = ctx.run.facts.newKeyId;
  if (!keyId) return done('no new key to revoke');
  await ctx.issuer.revoke(keyId);
  return done(`new key ${keyId} revoked; the previous key stays valid`);
}
