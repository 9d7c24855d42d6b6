import { done, type StepContext, type StepOutcome } from '../context';

/** Runbook step 7: previous_key cleared, rotation_verified_at and the metadata object updated. */
export async function record(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  const current = await deps.store.read(spec.store);
  if (
    current &&
    current.keyId === run.facts.newKeyId &&
    !current.previousValue &&
    current.rotationVerifiedAt
  ) {
    return done(`secret/${spec.store} version ${current.version} already recorded`);
  }
  const at = ctx.now().toISOString();
  const version = await deps.store.patch(
    spec.store,
    {
      clearPrevious: true,
      rotationVerifiedAt: at,
      metadata: {
        issuer: spec.issuer.name,
        consumers: spec.consumers.map((c) => c.name),
        rotation_contact: spec.contact,
        last_rotated: current?.rotatedAt ?? at,
      },
    },
    current?.version ?? run.facts.newVersion ?? 0,
  );
  return done(`secret/${spec.store} version ${version}: previous_key cleared, rotation_verified_at ${at}`);
}
