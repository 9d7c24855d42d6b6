import { keyLabelPrefix } from '../../domain/key-slots';
import { retiredKeys } from '../key-slot-note';
import { RotatorError } from '../../domain/errors';
import { done, identityOf, type StepContext, type StepOutcome } from '../context';
import { recentStore } from './store-truth';

/**
 * Revokes keys this tool created for the credential that the store does not know (nor `keep`):
 * what a crash between "created at the issuer" and "stored" leaves behind (their values are lost
 * for good), and, swept after a create, its twins (a create retried after a lost answer).
 */
export async function revokeOrphans(ctx: StepContext, keep: string[] = []): Promise<string[]> {
  const { spec, deps, issuer, run } = ctx;
  // Read by check-dependencies a moment ago in this invocation, under the lock, as a rule.
  const current = await recentStore(ctx);
  // Old keys earlier runs retired (deactivated, or reactivated for a forgotten consumer) are not
  // orphans: Vault forgot them when those runs recorded, their runs still know them.
  const retired = (await retiredKeys(deps.runs, spec.name, ctx.issuer)).map((r) => r.keyId);
  const known = new Set(
    [current?.keyId, current?.previousKeyId, run.facts.oldKeyId, ...retired, ...keep].filter(Boolean),
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
  // At an issuer with a key limit, orphans hold slots the create needs: swept before it, twins after.
  // Elsewhere one listing after the create finds both, orphans and twins alike.
  const limited = ctx.issuer.keyLimit !== undefined;
  const orphans = limited ? await revokeOrphans(ctx) : [];
  const keyId = await createKey(ctx);
  if (limited) {
    const twins = await revokeTwins(ctx);
    if (twins.length > 0) ctx.run.facts.orphansRevoked = [...(ctx.run.facts.orphansRevoked ?? []), ...twins];
    orphans.push(...twins);
  } else orphans.push(...(await revokeOrphans(ctx, [keyId])));
  const note = orphans.length > 0 ? ` (revoked orphaned keys ${orphans.join(', ')})` : '';
  return done(`new key ${keyId} at ${ctx.spec.issuer.name}${note}`);
}

/**
 * Emergency step 2: only the create, on the critical path between the responder's click and the
 * compromised key's revocation; the orphan and twin sweeps run after the revocation instead.
 */
export async function generateEmergency(ctx: StepContext): Promise<StepOutcome> {
  const freed = await freeRetiredSlot(ctx);
  const keyId = await createKey(ctx);
  const note = freed.length > 0 ? ` (deleted retired inactive key ${freed.join(', ')} to make room)` : '';
  return done(`new key ${keyId} at ${ctx.spec.issuer.name}${note}`);
}

/**
 * An emergency inside an earlier run's grace period finds the issuer full (IAM: the current key and
 * the deactivated old one). That old key, retired by a run of ours and inactive, is deleted ahead of
 * its job so the new key fits; anything else still full is refused before a create is attempted.
 */
async function freeRetiredSlot(ctx: StepContext): Promise<string[]> {
  const { issuer, spec, deps } = ctx;
  const limit = issuer.keyLimit;
  if (limit === undefined) return [];
  // Under the old-key lock: a reactivation or the delayed deletion never acts on the same key meanwhile.
  return deps.runs.withOldKeyLock(spec.name, () => freeRetiredSlotLocked(ctx, limit));
}

async function freeRetiredSlotLocked(ctx: StepContext, limit: number): Promise<string[]> {
  const { issuer, spec, deps, run } = ctx;
  const keys = await issuer.list();
  const retired = await retiredKeys(deps.runs, spec.name, ctx.issuer);
  const freed: string[] = [];
  for (const r of retired) {
    if (keys.length - freed.length < limit) break;
    const key = keys.find((k) => k.keyId === r.keyId);
    if (key?.status !== 'inactive' || run.facts.compromisedKeyIds?.includes(r.keyId)) continue;
    await issuer.revoke(r.keyId);
    freed.push(r.keyId);
    const at = ctx.now().toISOString();
    await deps.audit.record({
      runId: r.run.id,
      credential: spec.name,
      identity: identityOf(run),
      step: 'revoke-old',
      action: 'old_key.deleted',
      outcome: 'succeeded',
      detail: `old key ${r.keyId} deleted at ${spec.issuer.name} before its grace period ended, to make room for emergency run ${run.id}'s key`,
    });
    r.run.facts.oldKeyDeletedAt = at;
    r.run.updatedAt = at;
    await deps.runs.save(r.run);
  }
  if (keys.length - freed.length >= limit) {
    throw new RotatorError(
      'key_limit',
      `${spec.issuer.name}: ${keys.length} of ${limit} keys exist (${keys.map((k) => `${k.keyId} ${k.status}`).join(', ')}) and none is an inactive key a rotation retired: delete one by hand. Nothing was created; the compromised key is still active`,
      { context: { hint: 'cannot_revoke_old' } },
    );
  }
  return freed;
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
