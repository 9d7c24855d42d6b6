import { RotatorError } from '../../domain/errors';
import { done, identityOf, type StepContext, type StepOutcome } from '../context';

/** Runbook step 3: the new value as a new KV version, the old one kept as previous_key (check-and-set). */
export async function storeNew(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  const current = await deps.store.read(spec.store);
  if (current && run.facts.newKeyId && current.keyId === run.facts.newKeyId) {
    // The write landed before a crash lost its checkpoint.
    run.facts.newVersion = current.version;
    return done(`secret/${spec.store} version ${current.version} (previous kept)`);
  }
  const value = ctx.scratch.newValue;
  if (!value) {
    // The worker that created the key died before storing it; its value is gone.
    const lost = run.facts.newKeyId;
    if (lost) {
      await ctx.issuer.revoke(lost);
      run.facts.orphansRevoked = [...(run.facts.orphansRevoked ?? []), lost];
      delete run.facts.newKeyId;
    }
    return {
      kind: 'redo',
      step: 'generate',
      detail: `key ${lost ?? '?'} was never stored: revoked, generating again`,
    };
  }
  if (!current?.value || current.version !== run.facts.baseVersion) {
    throw new RotatorError(
      'store_conflict',
      `secret/${spec.store} changed during the run (version ${current?.version ?? 'none'}, expected ${run.facts.baseVersion})`,
    );
  }
  const at = ctx.now().toISOString();
  const version = await deps.store.write(
    spec.store,
    {
      value,
      ...(run.facts.newKeyId ? { keyId: run.facts.newKeyId } : {}),
      previousValue: current.value,
      ...(current.keyId ? { previousKeyId: current.keyId } : {}),
      rotatedAt: at,
      rotatedBy: identityOf(run),
    },
    current.version,
  );
  run.facts.newVersion = version;
  delete ctx.scratch.newValue;
  return done(`secret/${spec.store} version ${version} (previous kept)`);
}
