import { RotatorError, safeMessage } from '../../domain/errors';
import { formatIncidentRecord, type IncidentRecord } from '../../domain/incident';
import { done, identityOf, since, wait, type StepContext, type StepOutcome } from '../context';
import { revokeOrphans, revokeTwins } from './generate';
import { holdsNewKey, loginFields, readTruth, redoLostKey, storeWritten, waitForStore } from './store-truth';
import { verify } from './verify';

/**
 * Emergency 1: the scope assessment starts as a job of its own (it never holds up revocation), and
 * the store is read once: its current key (and a previous key still kept) are the compromised ones.
 */
export async function assessScope(ctx: StepContext): Promise<StepOutcome> {
  const { run, deps } = ctx;
  const truth = await readTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, 'the compromised key is not known yet');
  const current = truth.current;
  if (!current?.keyId) {
    throw new RotatorError(
      'store_missing',
      `secret/${ctx.spec.store} names no key id (api_key_id): revoke the compromised key at ${ctx.spec.issuer.name} by hand`,
    );
  }
  run.facts.baseVersion = current.version;
  run.facts.oldKeyId = current.keyId;
  run.facts.compromisedKeyIds = [current.keyId, ...(current.previousKeyId ? [current.previousKeyId] : [])];
  await ctx.checkpoint();
  try {
    await deps.assess?.(run);
  } catch (e) {
    deps.logger.warn({ runId: run.id, err: safeMessage(e) }, 'scope assessment could not be started');
    return done(`compromised: ${run.facts.compromisedKeyIds.join(', ')}; assessment could not be started`);
  }
  return done(`compromised: ${run.facts.compromisedKeyIds.join(', ')}; assessment started`);
}

/**
 * Emergency 3: the new value replaces the compromised one with emergency_rotation, the incident
 * reference and no previous_key. A write that landed though its answer was lost is recognised by
 * the run marker; a version written meanwhile by a run this emergency took over is overwritten,
 * and its key joins the compromised ones.
 */
export async function storeEmergency(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  const truth = await readTruth(ctx);
  if (!truth.known)
    return waitForStore(ctx, truth.reason, 'the compromised key stays as it is until it answers');
  const current = truth.current;
  if (holdsNewKey(current, run)) return stored(ctx, current!.version);
  const value = ctx.scratch.newValue;
  // The worker that created the key died before storing it (Vault, just read, does not hold it).
  if (!value) return redoLostKey(ctx);
  if (current?.keyId && !run.facts.compromisedKeyIds?.includes(current.keyId)) {
    // Written after the assessment (a taken-over run's store): that key was never vetted either.
    run.facts.compromisedKeyIds = [...(run.facts.compromisedKeyIds ?? []), current.keyId];
  }
  try {
    storeWritten(ctx);
    const version = await deps.store.write(
      spec.store,
      {
        value,
        ...(run.facts.newKeyId ? { keyId: run.facts.newKeyId } : {}),
        ...loginFields(ctx, run.facts.newKeyId),
        rotatedAt: ctx.now().toISOString(),
        rotatedBy: identityOf(run),
        emergencyRotation: true,
        incidentReference: run.incident?.ref ?? 'unknown',
        runId: run.id,
      },
      current?.version ?? 0,
    );
    return stored(ctx, version);
  } catch (e) {
    const after = await readTruth(ctx);
    if (!after.known) return waitForStore(ctx, after.reason, 'whether the write landed is unknown');
    if (holdsNewKey(after.current, run)) return stored(ctx, after.current!.version, ' after a lost answer');
    throw e;
  }
}

function stored(ctx: StepContext, version: number, how = ''): StepOutcome {
  ctx.run.facts.newVersion = version;
  delete ctx.scratch.newValue;
  return done(`secret/${ctx.spec.store} version ${version}: emergency_rotation, no previous key${how}`);
}

/**
 * Emergency 4: every compromised key is revoked before any consumer is deployed, even though
 * consumers fail until they restart. A refusal is said at once in the incident channel and retried;
 * the run never goes on as if revoked. The old value must then be rejected (read from the version
 * it was stored in, across the provider's propagation delay).
 */
export async function revokeCompromised(ctx: StepContext): Promise<StepOutcome> {
  const { run, issuer, deps, spec } = ctx;
  const ids = run.facts.compromisedKeyIds ?? [];
  if (!run.facts.revokedAt) {
    for (const id of ids.filter((k) => k !== run.facts.newKeyId)) {
      try {
        await issuer.revoke(id);
      } catch (e) {
        if (!run.facts.escalatedAt?.revoke) {
          await deps.incidents?.escalate(run, {
            once: 'escalation:revoke',
            text: `🚨 ${spec.issuer.name} refused to revoke compromised key \`${id}\` of \`${spec.name}\`: ${safeMessage(e)}. Retrying; the key is still active.`,
            ...(e instanceof RotatorError && e.code === 'issuer_rate_limited'
              ? { hint: 'rate_limited' as const }
              : {}),
          });
          run.facts.escalatedAt = { ...run.facts.escalatedAt, revoke: ctx.now().toISOString() };
        }
        return wait(ctx, `${spec.issuer.name} refuses to revoke ${id}: retrying (${safeMessage(e)})`);
      }
    }
    run.facts.revokedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }
  const base = run.facts.baseVersion ? await deps.store.read(spec.store, run.facts.baseVersion) : undefined;
  const old = base?.value;
  if (old && (await issuer.accepts(old, base.keyId))) {
    if (since(ctx, run.facts.revokedAt) > deps.settings.propagationMs) {
      throw new RotatorError(
        'old_key_still_active',
        `compromised key ${ids.join(', ')} is still accepted ${Math.round(deps.settings.propagationMs / 60000)} minutes after revocation`,
        { context: { hint: 'old_key_active_after_revoke' } },
      );
    }
    return wait(
      ctx,
      `revoked ${ids.join(', ')}; waiting for ${spec.issuer.name} to reject the compromised value`,
    );
  }
  return done(`compromised ${ids.join(', ')} revoked at ${run.facts.revokedAt} and rejected`);
}

/**
 * Emergency 6: never skipped and never a rollback (that would reinstate the compromised key). A
 * consumer still unhealthy after the grace is escalated once to the incident channel with the
 * runbook's row, and checked again until the rollout deadline; then the run fails, verification pending.
 */
export async function verifyEmergency(ctx: StepContext): Promise<StepOutcome> {
  try {
    return await verify(ctx);
  } catch (e) {
    if (!(e instanceof RotatorError) || e.code !== 'verify_failed') throw e;
    const { run, deps, spec } = ctx;
    if (!run.facts.escalatedAt?.verify) {
      await deps.incidents?.escalate(run, {
        once: 'escalation:verify',
        text: `⚠ \`${spec.name}\`: ${e.message}. Still checking; there is no rollback to the compromised key.`,
        hint: e.context.hint === 'app_401_cached' ? 'app_401_cached' : 'app_401_after_rotation',
      });
      run.facts.escalatedAt = { ...run.facts.escalatedAt, verify: ctx.now().toISOString() };
    }
    const step = run.steps.find((s) => s.name === 'verify');
    if (step?.startedAt && since(ctx, step.startedAt) > deps.settings.rolloutTimeoutMs) {
      run.facts.verificationPending = true;
      throw e;
    }
    return wait(ctx, `${e.message}; escalated, checking again`);
  }
}

/**
 * Emergency 7: the runbook's incident record, posted to the incident channel and kept in the audit
 * trail. First the sweeps generate skipped to keep the critical path short: keys of this tool the
 * store does not know, and twins of a retried create, are revoked.
 */
export async function incidentRecord(ctx: StepContext): Promise<StepOutcome> {
  const { run, spec, deps } = ctx;
  const swept = [...(await revokeOrphans(ctx)), ...(run.facts.newKeyId ? await revokeTwins(ctx) : [])];
  if (swept.length > 0)
    run.facts.orphansRevoked = [...new Set([...(run.facts.orphansRevoked ?? []), ...swept])];
  const scope = await deps.runs.getScope(run.id);
  const record: IncidentRecord = {
    incident: run.incident?.ref ?? 'unknown',
    credential: spec.name,
    compromisedKeyIds: run.facts.compromisedKeyIds ?? [],
    ...(run.facts.newKeyId ? { newKeyId: run.facts.newKeyId } : {}),
    ...(run.facts.revokedAt ? { revokedAt: run.facts.revokedAt } : {}),
    ...(run.facts.deployedAt ? { deployedAt: run.facts.deployedAt } : {}),
    verification: run.facts.verifiedAt && !run.facts.verificationPending ? 'complete' : 'pending',
    rotatedBy: identityOf(run),
    ...(scope?.earliestSuspicious ? { earliestSuspicious: scope.earliestSuspicious } : {}),
    scope: scope?.status ?? 'not started',
  };
  await deps.audit.record({
    runId: run.id,
    credential: spec.name,
    action: 'incident.record',
    outcome: 'info',
    identity: identityOf(run),
    detail: formatIncidentRecord(record),
  });
  await deps.incidents?.record(run, record);
  return done(`incident record for ${record.incident} written`);
}
