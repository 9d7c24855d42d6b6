import { createHash } from 'node:crypto';
import type { Consumer } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { DeployProgress } from '../../domain/run';
import { done, since, wait, type StepContext, type StepOutcome } from '../context';

const startupConsumers = (cs: Consumer[]) => cs.filter((c) => c.reload === 'startup' && c.kubernetes);

function externalSecrets(cs: Consumer[]): Array<{ namespace: string; name: string }> {
  const seen = new Map<string, { namespace: string; name: string }>();
  for (const c of cs) {
    const k = c.kubernetes;
    if (k?.externalSecret)
      seen.set(`${k.namespace}/${k.externalSecret}`, { namespace: k.namespace, name: k.externalSecret });
  }
  return [...seen.values()];
}

function timedOut(
  ctx: StepContext,
  from: string,
  what: string,
  hint: 'app_401_after_rotation' | 'integration_timeout',
): void {
  if (since(ctx, from) > ctx.deps.settings.rolloutTimeoutMs) {
    throw new RotatorError(
      'deploy_failed',
      `${what} did not finish within ${ctx.deps.settings.rolloutTimeoutMs / 1000}s`,
      {
        context: { hint },
      },
    );
  }
}

/**
 * Runbook step 4, and the rollback's redeploy: force-sync the ExternalSecrets and wait for the
 * Secret to update, then restart the consumers that read at startup and wait for their rollouts;
 * dynamic consumers get their cache TTL, scheduled ones need nothing (next job uses new).
 * Every wait re-queues the step; the progress survives a worker crash in `progress`.
 */
/**
 * A time for this phase's trigger that is at least a second after the other phase's, so the
 * second-precision restartedAt annotation of a rollback can never equal the rotation's own.
 */
function triggerTime(ctx: StepContext, other: string | undefined): string {
  const now = ctx.now().getTime();
  const floor = other ? Date.parse(other) + 1000 : 0;
  return new Date(Math.max(now, floor)).toISOString();
}

export async function deployConsumers(
  ctx: StepContext,
  progress: DeployProgress,
  other?: DeployProgress,
): Promise<StepOutcome> {
  const { spec, deps } = ctx;
  const consumers = spec.consumers;
  const syncs = externalSecrets(consumers);

  if (!progress.syncRequestedAt) {
    // The annotation has millisecond precision and the Secret's content is checked by digest, so
    // a sync right after another one is told apart; restarts need the one-second gap below.
    progress.syncRequestedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }
  const syncAt = new Date(progress.syncRequestedAt);
  if (!progress.syncedAt) {
    // What the Secret must hold once synced: the store's current value, compared by digest only.
    const value = (await deps.store.read(spec.store))?.value;
    const digest = value ? createHash('sha256').update(value.reveal()).digest('hex') : undefined;
    // Same annotation value on a retry, so a re-run does not trigger another refresh.
    await Promise.all(syncs.map((s) => deps.deployer.forceSync(s.namespace, s.name, syncAt)));
    const synced = await Promise.all(
      syncs.map((s) => deps.deployer.synced(s.namespace, s.name, syncAt, digest)),
    );
    if (synced.includes(false)) {
      timedOut(ctx, progress.syncRequestedAt, 'ExternalSecret sync', 'app_401_after_rotation');
      return wait(
        ctx,
        `waiting for ${syncs
          .filter((_, i) => !synced[i])
          .map((s) => s.name)
          .join(', ')} to sync`,
      );
    }
    progress.syncedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }

  const restarts = startupConsumers(consumers);
  if (!progress.restartRequestedAt) {
    progress.restartRequestedAt = triggerTime(ctx, other?.restartRequestedAt);
    await ctx.checkpoint();
  }
  const restartAt = new Date(progress.restartRequestedAt);
  // restartedAt is fixed by the checkpoint: patching it again is a no-op for the cluster.
  await Promise.all(restarts.map((c) => deps.deployer.restart(c.kubernetes!, restartAt)));
  const states = await Promise.all(restarts.map((c) => deps.deployer.rolloutStatus(c.kubernetes!)));
  const failed = states.findIndex((s) => s.state === 'failed');
  if (failed >= 0) {
    const s = states[failed]!;
    throw new RotatorError(
      'deploy_failed',
      `rollout of ${restarts[failed]!.name} failed: ${s.state === 'failed' ? s.reason : ''}`,
      { context: { hint: 'rollout_incomplete' } },
    );
  }
  const pending = restarts.filter((_, i) => states[i]!.state !== 'done');
  if (pending.length > 0) {
    timedOut(
      ctx,
      progress.restartRequestedAt,
      `rollout of ${pending.map((c) => c.name).join(', ')}`,
      'integration_timeout',
    );
    return wait(ctx, `rolling out ${pending.map((c) => c.name).join(', ')}`);
  }

  const cacheMs = Math.max(
    0,
    ...consumers.filter((c) => c.reload === 'dynamic').map((c) => (c.cacheTtlSeconds ?? 0) * 1000),
  );
  if (cacheMs > 0 && since(ctx, progress.syncedAt) < cacheMs) {
    return {
      kind: 'wait',
      delayMs: Math.min(cacheMs - since(ctx, progress.syncedAt), cacheMs),
      detail: "waiting for dynamic consumers' cache to expire",
    };
  }
  progress.doneAt = ctx.now().toISOString();
  const nextJob = consumers.filter((c) => c.reload === 'scheduled').map((c) => c.name);
  const parts = [
    restarts.length ? `restarted ${restarts.map((c) => c.name).join(', ')}` : '',
    syncs.length ? `synced ${syncs.map((s) => s.name).join(', ')}` : '',
    nextJob.length ? `next job uses new: ${nextJob.join(', ')}` : '',
  ].filter(Boolean);
  return done(parts.join('; '));
}

/** Runbook step 4. */
export async function deploy(ctx: StepContext): Promise<StepOutcome> {
  const facts = ctx.run.facts;
  facts.deploys ??= {};
  facts.deploys.forward ??= {};
  const out = await deployConsumers(ctx, facts.deploys.forward);
  if (out.kind === 'done') {
    facts.deployedAt = facts.deploys.forward.doneAt;
    facts.consumersRestarted = startupConsumers(ctx.spec.consumers).map((c) => c.name);
    facts.consumersNextJob = ctx.spec.consumers.filter((c) => c.reload === 'scheduled').map((c) => c.name);
  }
  return out;
}
