import { RotatorError } from '../../domain/errors';
import { done, identityOf, type StepContext, type StepOutcome } from '../context';
import { holdsNewKey, loginFields, readTruth, redoLostKey, waitForStore } from './store-truth';

const KEPT = 'both keys stay active until it answers';

/**
 * Runbook step 3: the new value as a new KV version, the old one kept as previous_key (check-and-set),
 * marked with the run id. A write that fails or goes unanswered is read back before anything is
 * decided: landed means go on with the new key; not landed means the caller revokes it; unreadable
 * means keep both keys and look again.
 */
export async function storeNew(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  const truth = await readTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, KEPT);
  const current = truth.current;
  if (holdsNewKey(current, run)) return landed(ctx, current!.version);
  const value = ctx.scratch.newValue;
  // The worker that created the key died before storing it (Vault, just read, does not hold it).
  if (!value) return redoLostKey(ctx);
  if (!current?.value || current.version !== run.facts.baseVersion) {
    throw new RotatorError(
      'store_conflict',
      `secret/${spec.store} changed during the run (version ${current?.version ?? 'none'}, expected ${run.facts.baseVersion})`,
    );
  }
  try {
    const version = await deps.store.write(
      spec.store,
      {
        value,
        ...(run.facts.newKeyId ? { keyId: run.facts.newKeyId } : {}),
        ...loginFields(ctx, run.facts.newKeyId),
        previousValue: current.value,
        ...(current.keyId ? { previousKeyId: current.keyId } : {}),
        rotatedAt: ctx.now().toISOString(),
        rotatedBy: identityOf(run),
        runId: run.id,
      },
      current.version,
    );
    return landed(ctx, version);
  } catch (e) {
    // The answer may have been lost after Vault applied the write: ask Vault, not the error.
    const after = await readTruth(ctx);
    if (!after.known) return waitForStore(ctx, after.reason, `whether the write landed is unknown; ${KEPT}`);
    if (holdsNewKey(after.current, run)) return landed(ctx, after.current!.version, ' after a lost answer');
    throw e;
  }
}

function landed(ctx: StepContext, version: number, how = ''): StepOutcome {
  ctx.run.facts.newVersion = version;
  delete ctx.scratch.newValue;
  return done(`secret/${ctx.spec.store} version ${version} (previous kept)${how}`);
}
