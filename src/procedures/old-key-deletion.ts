import type { CredentialSpec } from '../domain/credential';
import { RotatorError } from '../domain/errors';
import type { AuditLog, Clock, Issuer, SecretStore } from '../domain/ports';
import type { Run } from '../domain/run';
import type { RunStore } from '../queue/run-store';

export interface OldKeyDeps {
  runs: RunStore;
  catalog: Map<string, CredentialSpec>;
  issuerFor: (spec: CredentialSpec) => Issuer;
  audit: AuditLog;
  clock: Clock;
  /** Read right before a deletion: a key Vault serves (current or previous) is never deleted. */
  store: SecretStore;
  /** Removes the run's delayed deletion job, once a reactivation called it off. */
  dropDeletion?: (runId: string) => Promise<void>;
}

/** A run whose old key was deactivated and still waits for its delayed deletion. */
export const oldKeyPending = (run: Run): boolean =>
  !!run.facts.oldKeyDeactivatedAt && !run.facts.oldKeyDeletedAt && !run.facts.oldKeyReactivated;

async function load(
  deps: OldKeyDeps,
  runId: string,
): Promise<{ run: Run; spec: CredentialSpec; keyId: string }> {
  const run = await deps.runs.get(runId);
  const keyId = run?.facts.oldKeyId;
  if (!run || !keyId || !run.facts.oldKeyDeactivatedAt)
    throw new RotatorError('internal', `run ${runId} did not deactivate an old key`);
  const spec = deps.catalog.get(run.credential);
  if (!spec)
    throw new RotatorError('unknown_credential', `credential ${run.credential} is no longer in the catalog`);
  return { run, spec, keyId };
}

/**
 * The grace period is over: the deactivated old key is deleted, unless an approver reactivated it,
 * someone switched it back on at the issuer, or its last use (which IAM reports hours late) shows a
 * consumer used it after the deploy. Then it is kept, and the run record says why.
 */
export async function deleteOldKey(deps: OldKeyDeps, runId: string): Promise<string> {
  const { run: loaded } = await load(deps, runId);
  return deps.runs.withOldKeyLock(loaded.credential, () => deleteLocked(deps, runId));
}

async function deleteLocked(deps: OldKeyDeps, runId: string): Promise<string> {
  const { run, spec, keyId } = await load(deps, runId);
  if (!oldKeyPending(run)) return `old key ${keyId}: nothing to do`;
  const issuer = deps.issuerFor(spec);
  const status = await issuer.status(keyId);
  let kept: string | undefined;
  if (status === 'active') kept = `old key ${keyId} was switched back on at ${spec.issuer.name}: not deleted`;
  const lastUsed = status === 'absent' || kept ? undefined : await issuer.lastUsed(keyId);
  const deployedAt = run.facts.deployedAt ? Date.parse(run.facts.deployedAt) : undefined;
  if (lastUsed && deployedAt !== undefined && lastUsed.getTime() > deployedAt) {
    kept = `old key ${keyId} was used at ${lastUsed.toISOString()}, after the deploy (${run.facts.deployedAt}): an undeclared consumer still holds it, so it was kept (inactive)`;
  }
  const now = deps.clock.now().toISOString();
  const entry = { runId, credential: spec.name, identity: 'schedule', step: 'revoke-old' as const };
  if (!kept && status !== 'absent') {
    // The last look before the irreversible act: the key switched back on meanwhile, or served
    // again from Vault (a rollback, a hand-written version), is kept.
    const [again, stored] = await Promise.all([issuer.status(keyId), deps.store.read(spec.store)]);
    if (again === 'active')
      kept = `old key ${keyId} was switched back on at ${spec.issuer.name}: not deleted`;
    else if (stored && (stored.keyId === keyId || stored.previousKeyId === keyId))
      kept = `old key ${keyId} is served again from secret/${spec.store} (${stored.keyId === keyId ? 'current' : 'previous'} key): not deleted`;
  }
  if (kept) {
    await deps.audit.record({ ...entry, action: 'old_key.kept', outcome: 'refused', detail: kept });
    run.facts.oldKeyKept = kept;
  } else {
    if (status !== 'absent') await issuer.revoke(keyId);
    await deps.audit.record({
      ...entry,
      action: 'old_key.deleted',
      outcome: 'succeeded',
      detail: `old key ${keyId} deleted at ${spec.issuer.name} after its grace period`,
    });
    run.facts.oldKeyDeletedAt = now;
  }
  run.updatedAt = now;
  await deps.runs.save(run);
  return kept ?? `old key ${keyId} deleted`;
}

/**
 * An approver's **Reactivate old key**: a forgotten consumer is rescued by switching the old key back
 * on; its deletion is called off. Refused once the key is deleted.
 */
export async function reactivateOldKey(deps: OldKeyDeps, runId: string, identity: string): Promise<string> {
  const { run: loaded } = await load(deps, runId);
  return deps.runs.withOldKeyLock(loaded.credential, () => reactivateLocked(deps, runId, identity));
}

async function reactivateLocked(deps: OldKeyDeps, runId: string, identity: string): Promise<string> {
  const { run, spec, keyId } = await load(deps, runId);
  const entry = { runId, credential: spec.name, identity, step: 'revoke-old' as const };
  if (run.facts.oldKeyReactivated) {
    await deps.dropDeletion?.(runId);
    return `old key ${keyId} already reactivated`;
  }
  const issuer = deps.issuerFor(spec);
  if (run.facts.oldKeyDeletedAt || !issuer.reactivate || (await issuer.status(keyId)) === 'absent') {
    const why = `old key ${keyId} cannot be reactivated: it was deleted`;
    await deps.audit.record({ ...entry, action: 'old_key.reactivate', outcome: 'refused', detail: why });
    return why;
  }
  await issuer.reactivate(keyId);
  const at = deps.clock.now().toISOString();
  await deps.audit.record({
    ...entry,
    action: 'old_key.reactivated',
    outcome: 'succeeded',
    detail: `old key ${keyId} active again at ${spec.issuer.name}; its deletion is called off`,
  });
  run.facts.oldKeyReactivated = { at, by: identity };
  run.updatedAt = at;
  await deps.runs.save(run);
  // The delayed deletion is called off for good; were it to run anyway, the run record stops it.
  await deps.dropDeletion?.(runId);
  return `old key ${keyId} reactivated`;
}
