import { keyLabelPrefix } from '../../domain/key-slots';
import { retiredKeys } from '../key-slot-note';
import { done, type StepContext, type StepOutcome } from '../context';

/**
 * Revokes keys this tool created for the credential that the store does not know: what a crash
 * between "created at the issuer" and "stored" leaves behind (their values are lost for good).
 */
export async function revokeOrphans(ctx: StepContext): Promise<string[]> {
  const { spec, deps, issuer, run } = ctx;
  const current = await deps.store.read(spec.store);
  // Old keys earlier runs retired (deactivated, or reactivated for a forgotten consumer) are not
  // orphans: Vault forgot them when those runs recorded, their runs still know them.
  const retired = (await retiredKeys(deps.runs, spec.name)).map((r) => r.keyId);
  const known = new Set(
    [current?.keyId, current?.previousKeyId, run.facts.oldKeyId, ...retired].filter(Boolean),
  );
  const keys = await issuer.list();
  const orphans = keys.filter(
    (k) => k.label.startsWith(keyLabelPrefix(spec.name)) && k.status === 'active' && !known.has(k.keyId),
  );
  for (const k of orphans) await issuer.revoke(k.keyId);
  const ids = orphans.map((k) => k.keyId);
  if (ids.length > 0) {
    run.facts.orphansRevoked = [...(run.facts.orphansRevoked ?? []), ...ids];
    if (run.facts.newKeyId && ids.includes(run.facts.newKeyId)) delete run.facts.newKeyId;
  }
  return ids;
}

/** Runbook step 2: a new key at the issuer. Its value stays in this worker's memory until stored. */
export async function generate(ctx: StepContext): Promise<StepOutcome> {
  const orphans = await revokeOrphans(ctx);
  const keyId = await createKey(ctx);
  const twins = await revokeTwins(ctx);
  if (twins.length > 0) ctx.run.facts.orphansRevoked = [...(ctx.run.facts.orphansRevoked ?? []), ...twins];
  orphans.push(...twins);
  const note = orphans.length > 0 ? ` (revoked orphaned keys ${orphans.join(', ')})` : '';
  return done(`new key ${keyId} at ${ctx.spec.issuer.name}${note}`);
}

/**
 * Emergency step 2: only the create, on the critical path between the responder's click and the
 * compromised key's revocation; the orphan and twin sweeps run after the revocation instead.
 */
export async function generateEmergency(ctx: StepContext): Promise<StepOutcome> {
  const keyId = await createKey(ctx);
  return done(`new key ${keyId} at ${ctx.spec.issuer.name}`);
}

/** The run's label at the issuer: how the orphan sweep and the twin check recognise its keys. */
const labelOf = (ctx: StepContext): string => `${keyLabelPrefix(ctx.spec.name)}${ctx.run.id}`;

async function createKey(ctx: StepContext): Promise<string> {
  const { keyId, value } = await ctx.issuer.create(labelOf(ctx));
  ctx.run.facts.newKeyId = keyId;
  // Checkpoint before anything else can fail: a crash from here on leaves a key the next attempt finds.
  await ctx.checkpoint();
  ctx.scratch.newValue = value;
  return keyId;
}

/** A create retried after a lost answer may have made a twin whose value nobody has: revoke it. */
export async function revokeTwins(ctx: StepContext): Promise<string[]> {
  const label = labelOf(ctx);
  const twins = (await ctx.issuer.list()).filter(
    (k) => k.label === label && k.keyId !== ctx.run.facts.newKeyId && k.status === 'active',
  );
  for (const k of twins) await ctx.issuer.revoke(k.keyId);
  return twins.map((k) => k.keyId);
}
