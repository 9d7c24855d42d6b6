import { RotatorError } from '../../domain/errors';
import { done, identityOf, type StepContext, type StepOutcome } from '../context';
import type { Secret } from '../../domain/secret';
import {
  digestOf,
  holdsNewKey,
  loginFields,
  readTruth,
  recentTruth,
  redoLostKey,
  storeWritten,
  waitForStore,
} from './store-truth';

const KEPT = 'both keys stay active until it answers';

/**
 * Runbook step 3: the new value as a new KV version, the old one kept as previous_key (check-and-set),
 * marked with the run id. A write that fails or goes unanswered is read back before anything is
 * decided: landed means go on with the new key; not landed means the caller revokes it; unreadable
 * means keep both keys and look again.
 */
export async function storeNew(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  const value = ctx.scratch.newValue;
  // With the value in hand, what check-dependencies read a moment ago in this invocation will do:
  // the write is a check-and-set on that version, so a change since is refused, never overwritten.
  // Without it the key is revoked below, and that takes a fresh read.
  const truth = value ? await recentTruth(ctx) : await readTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, KEPT);
  const current = truth.current;
  if (holdsNewKey(current, run)) return landed(ctx, current!.version, current!.value);
  // The worker that created the key died before storing it (Vault, just read, does not hold it).
  if (!value) return redoLostKey(ctx);
  if (!current?.value || current.version !== run.facts.baseVersion) {
    throw new RotatorError(
      'store_conflict',
      `secret/${spec.store} changed during the run (version ${current?.version ?? 'none'}, expected ${run.facts.baseVersion})`,
    );
  }
  try {
    storeWritten(ctx);
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
    return landed(ctx, version, value);
  } catch (e) {
    // The answer may have been lost after Vault applied the write: ask Vault, not the error.
    const after = await readTruth(ctx);
    if (!after.known) return waitForStore(ctx, after.reason, `whether the write landed is unknown; ${KEPT}`);
    if (holdsNewKey(after.current, run))
      return landed(ctx, after.current!.version, after.current!.value, ' after a lost answer');
    throw e;
  }
}

/** The write's answer (its version) is the truth: deploy and record take it from the run. */
function landed(ctx: StepContext, version: number, value: Secret | undefined, how = ''): StepOutcome {
  const facts = ctx.run.facts;
  facts.newVersion = version;
  if (value) {
    facts.deploys ??= {};
    facts.deploys.forward = { ...facts.deploys.forward, valueDigest: digestOf(value) };
  }
  delete ctx.scratch.newValue;
  return done(`secret/${ctx.spec.store} version ${version} (previous kept)${how}`);
}
