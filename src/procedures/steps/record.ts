import type { CredentialSpec } from '../../domain/credential';
import type { StorePatch, StoredCredential } from '../../domain/ports';
import { done, type StepContext, type StepOutcome } from '../context';
import { holdsNewKey, readTruth, recentTruth, storeWritten, waitForStore } from './store-truth';

/**
 * The runbook's step 7 as a patch: previous_key cleared, rotation_verified_at, and the metadata
 * object rewritten from the catalog (issuer, consumers, contact, last rotation).
 */
export function recordPatch(spec: CredentialSpec, at: string, rotatedAt: string | undefined): StorePatch {
  return {
    clearPrevious: true,
    rotationVerifiedAt: at,
    metadata: {
      issuer: spec.issuer.name,
      consumers: spec.consumers.map((c) => c.name),
      rotation_contact: spec.contact,
      last_rotated: rotatedAt ?? at,
    },
  };
}

const recorded = (ctx: StepContext, c: StoredCredential | undefined): boolean =>
  !!c && holdsNewKey(c, ctx.run) && !c.previousValue && !!c.rotationVerifiedAt;

/**
 * Runbook step 7: previous_key cleared, rotation_verified_at and the metadata object updated. A patch
 * that fails or goes unanswered is read back; one that did not land fails the step, which after a
 * successful revocation leaves a succeeded run with the record pending (the reconciler finishes it).
 */
export async function record(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  // Read by revoke-old a moment ago when it ran in this invocation; the patch is a check-and-set on
  // that version, so a change since is refused, never overwritten.
  const truth = await recentTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, 'the record waits for it');
  const current = truth.current;
  if (recorded(ctx, current)) {
    return done(`secret/${spec.store} version ${current!.version} already recorded`);
  }
  const at = ctx.now().toISOString();
  try {
    storeWritten(ctx);
    const version = await deps.store.patch(
      spec.store,
      recordPatch(spec, at, current?.rotatedAt),
      current?.version ?? run.facts.newVersion ?? 0,
    );
    return done(`secret/${spec.store} version ${version}: previous_key cleared, rotation_verified_at ${at}`);
  } catch (e) {
    const after = await readTruth(ctx);
    if (after.known && recorded(ctx, after.current)) {
      return done(`secret/${spec.store} version ${after.current!.version}: recorded (after a lost answer)`);
    }
    throw e;
  }
}
