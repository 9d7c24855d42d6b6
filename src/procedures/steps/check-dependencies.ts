import { consumerDrift, discoveryScope } from '../../domain/consumer-drift';
import { RotatorError } from '../../domain/errors';
import { done, settle, unsettle, type StepContext, type StepOutcome } from '../context';
import { retiredKeys } from '../key-slot-note';
import { makeRoom } from './key-room';
import { readStore } from './store-truth';

/**
 * Runbook step 1: the credential exists in the store, and the cluster agrees with the dependency
 * map. A deployment that references the secret but is not declared would lose authentication when
 * the old key is revoked, so the run is refused until the catalog is updated.
 */
export async function checkDependencies(ctx: StepContext): Promise<StepOutcome> {
  const { spec, deps, run } = ctx;
  // Reads that do not depend on one another go out together; their answers are still judged in
  // the runbook's order (the store first, the cluster last).
  const scope = discoveryScope(spec);
  const discovery =
    spec.kubernetesSecret && scope ? settle(deps.deployer.discover(spec.kubernetesSecret, scope)) : undefined;
  const earlierRuns = settle(retiredKeys(deps.runs, spec.name, ctx.issuer));
  const current = await readStore(ctx);
  if (!current?.value) {
    throw new RotatorError('store_missing', `secret/${spec.store} has no current value to rotate`);
  }
  if (current.previousKeyId && (await ctx.issuer.status(current.previousKeyId)) === 'active') {
    // An earlier run left the key before the current one in service (refused or unfinished
    // revocation). Rotating again would drop it from the store while it stays valid.
    throw new RotatorError(
      'old_key_in_use',
      `key ${current.previousKeyId} from before the last rotation is still active at ${spec.issuer.name}: find its consumer and revoke it (or finish that run) before rotating again`,
      { context: { hint: 'cannot_revoke_old', keyId: current.previousKeyId } },
    );
  }
  // An old key an earlier run deactivated and an approver (or someone at the console) switched back
  // on serves a forgotten consumer: the same refusal as an active previous key.
  const retired = unsettle(await earlierRuns);
  for (const r of retired) {
    if (r.keyId === current.keyId || (await ctx.issuer.status(r.keyId)) !== 'active') continue;
    throw new RotatorError(
      'old_key_in_use',
      `old key ${r.keyId}, deactivated by run ${r.run.id}, is active again at ${spec.issuer.name}${r.run.facts.oldKeyReactivated ? ` (reactivated by ${r.run.facts.oldKeyReactivated.by})` : ''}: move its consumer to the current key and delete it before rotating again`,
      { context: { hint: 'cannot_revoke_old', keyId: r.keyId } },
    );
  }
  run.facts.baseVersion = current.version;
  if (current.keyId) run.facts.oldKeyId = current.keyId;
  const notes = [`store version ${current.version}`];
  // Issuers with a key limit (IAM: two per user) are checked before anything is created.
  const room = await makeRoom(
    ctx,
    current,
    retired.map((r) => r.keyId),
  );
  if (room) notes.push(room);

  if (spec.kubernetesSecret && discovery) {
    const { found, undeclared, missing } = consumerDrift(spec, unsettle(await discovery));
    if (undeclared.length > 0) {
      throw new RotatorError(
        'old_key_in_use',
        `deployments ${undeclared.join(', ')} reference secret ${spec.kubernetesSecret} but are not declared consumers: add them to the catalog before rotating`,
      );
    }
    if (missing.length > 0) {
      throw new RotatorError(
        'deploy_failed',
        `declared consumers ${missing.join(', ')} do not reference secret ${spec.kubernetesSecret} in the cluster: remove decommissioned consumers from the catalog (runbook step 1)`,
      );
    }
    notes.push(`${found.size} consumers found in the cluster`);
  }
  return done(notes.join(', '));
}
