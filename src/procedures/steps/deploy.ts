import type { Consumer } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { DeployProgress } from '../../domain/run';
import { done, since, type StepContext, type StepOutcome } from '../context';
import { digestOf, recentStore } from './store-truth';

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

/**
 * The first look at a sync comes this soon after the force-sync, each next one twice as late: the
 * operator may refresh within tens of milliseconds of the annotation (the Kubernetes double's 20),
 * and a look made too early costs one Secret read, while one made too late costs the whole rotation.
 */
const SYNC_BACKOFF_MS = 25;

/** Force-syncs the ExternalSecrets once and waits (short backoff, then the poll) for the Secret. */
async function syncSecrets(
  ctx: StepContext,
  progress: DeployProgress,
  syncs: Array<{ namespace: string; name: string }>,
): Promise<StepOutcome | undefined> {
  const { deps } = ctx;
  // A force-sync sent by an earlier invocation (its acceptance not recorded) may have landed.
  const mayHaveLanded = progress.syncRequestedAt !== undefined;
  if (!progress.syncRequestedAt) {
    // The annotation has millisecond precision and the Secret's content is checked by digest, so
    // a sync right after another one is told apart; restarts need the one-second gap below.
    progress.syncRequestedAt = ctx.now().toISOString();
    await ctx.checkpoint();
  }
  const syncAt = new Date(progress.syncRequestedAt);
  if (syncs.length === 0) {
    progress.syncedAt = ctx.now().toISOString();
    return undefined;
  }
  if (!progress.syncPatched) {
    // Same annotation value on a retry whose answer was lost, so a re-run triggers no other refresh.
    await Promise.all(
      syncs.map((s) => deps.deployer.forceSync(s.namespace, s.name, syncAt, { mayHaveLanded })),
    );
    progress.syncPatched = true;
    // The operator has not refreshed yet: looking now would only fail. The engine saves the
    // waiting step, syncPatched with it: no checkpoint of its own, a round trip before the wait.
    return backoff(ctx, progress, syncs);
  }
  // What the Secret must hold once synced, compared by digest only: the digest the storing step
  // recorded, else (a run that predates it) the store's current value.
  progress.valueDigest ??= await storedDigest(ctx);
  const digest = progress.valueDigest;
  const synced = await Promise.all(
    syncs.map((s) => deps.deployer.synced(s.namespace, s.name, syncAt, digest)),
  );
  if (synced.includes(false)) {
    timedOut(ctx, progress.syncRequestedAt, 'ExternalSecret sync', 'app_401_after_rotation');
    progress.syncChecks = (progress.syncChecks ?? 0) + 1;
    return backoff(
      ctx,
      progress,
      syncs.filter((_, i) => !synced[i]),
    );
  }
  // Saved with the restart's checkpoint (or the step's end) that follows in this invocation; a
  // crash before it only costs one more look at a Secret already synced.
  progress.syncedAt = ctx.now().toISOString();
  return undefined;
}

async function storedDigest(ctx: StepContext): Promise<string | undefined> {
  const value = (await recentStore(ctx))?.value;
  return value ? digestOf(value) : undefined;
}

const backoff = (
  ctx: StepContext,
  progress: DeployProgress,
  pending: Array<{ name: string }>,
): StepOutcome => ({
  kind: 'wait',
  delayMs: Math.min(ctx.deps.settings.pollIntervalMs, SYNC_BACKOFF_MS * 2 ** (progress.syncChecks ?? 0)),
  detail: `waiting for ${pending.map((s) => s.name).join(', ')} to sync`,
});

/** Restarts each startup consumer once, recording each accepted patch; returns those patched now. */
async function restartOnce(ctx: StepContext, progress: DeployProgress, restarts: Consumer[]) {
  const restartAt = new Date(progress.restartRequestedAt!);
  const done = new Set(progress.restarted ?? []);
  const todo = restarts.filter((c) => !done.has(c.name));
  if (todo.length === 0) return new Set<string>();
  const results = await Promise.allSettled(
    todo.map((c) => ctx.deps.deployer.restart(c.kubernetes!, restartAt)),
  );
  const patched = new Set(todo.filter((_, i) => results[i]!.status === 'fulfilled').map((c) => c.name));
  progress.restarted = restarts.map((c) => c.name).filter((n) => done.has(n) || patched.has(n));
  await ctx.checkpoint();
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  return patched;
}

export async function deployConsumers(
  ctx: StepContext,
  progress: DeployProgress,
  other?: DeployProgress,
): Promise<StepOutcome> {
  const { spec, deps } = ctx;
  const consumers = spec.consumers;
  const syncs = externalSecrets(consumers);

  if (!progress.syncedAt) {
    const waiting = await syncSecrets(ctx, progress, syncs);
    if (waiting) return waiting;
  }

  const restarts = startupConsumers(consumers);
  if (!progress.restartRequestedAt) {
    progress.restartRequestedAt = triggerTime(ctx, other?.restartRequestedAt);
    await ctx.checkpoint();
  }
  // Patched just now = not rolled out yet (the generation moved): no need to read them back.
  const justPatched = await restartOnce(ctx, progress, restarts);
  const looked = restarts.filter((c) => !justPatched.has(c.name));
  const states = await Promise.all(looked.map((c) => deps.deployer.rolloutStatus(c.kubernetes!)));
  const failed = states.findIndex((s) => s.state === 'failed');
  if (failed >= 0) {
    const s = states[failed]!;
    throw new RotatorError(
      'deploy_failed',
      `rollout of ${looked[failed]!.name} failed: ${s.state === 'failed' ? s.reason : ''}`,
      { context: { hint: 'rollout_incomplete' } },
    );
  }
  const pending = restarts.filter(
    (c) => justPatched.has(c.name) || states[looked.indexOf(c)]?.state === 'waiting',
  );
  if (pending.length > 0) {
    timedOut(
      ctx,
      progress.restartRequestedAt,
      `rollout of ${pending.map((c) => c.name).join(', ')}`,
      'integration_timeout',
    );
    const delayMs = deps.settings.pollIntervalMs;
    const wake = deps.deployer.rolloutsSettled?.(
      pending.map((c) => c.kubernetes!),
      delayMs,
    );
    return {
      kind: 'wait',
      delayMs,
      detail: `rolling out ${pending.map((c) => c.name).join(', ')}`,
      ...(wake ? { wake } : {}),
    };
  }

  const cacheMs = Math.max(
    0,
    ...consumers.filter((c) => c.reload === 'dynamic').map((c) => (c.cacheTtlSeconds ?? 0) * 1000),
  );
  const syncedAt = progress.syncedAt!;
  if (cacheMs > 0 && since(ctx, syncedAt) < cacheMs) {
    return {
      kind: 'wait',
      delayMs: Math.min(cacheMs - since(ctx, syncedAt), cacheMs),
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
