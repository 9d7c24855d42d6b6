import { issuerPolicy } from '../../domain/credential';
import { RotatorError } from '../../domain/errors';
import type { HealthResult } from '../../domain/ports';
import { done, settle, since, wait, type StepContext, type StepOutcome } from '../context';

/** When the value being verified began to reach the consumers (the latest deploy's first action). */
function deployStarted(ctx: StepContext): Date | undefined {
  const d = ctx.run.facts.deploys?.rollback ?? ctx.run.facts.deploys?.forward;
  const at = d?.syncRequestedAt ?? d?.restartRequestedAt ?? d?.doneAt;
  return at ? new Date(at) : undefined;
}

/** Health of every consumer that declares a check; unhealthy ones get `verifyGraceMs` to recover. */
export async function checkConsumers(
  ctx: StepContext,
  label: string,
  graceMs = ctx.deps.settings.verifyGraceMs,
): Promise<StepOutcome> {
  const deployedFrom = deployStarted(ctx);
  const results: HealthResult[] = await Promise.all(
    ctx.spec.consumers
      .filter((c) => c.health)
      .map((c) => ctx.deps.health.check(c, deployedFrom ? { since: deployedFrom } : {})),
  );
  const bad = results.filter((r) => !r.ok);
  if (bad.length === 0) {
    ctx.run.facts.consumersVerified = results.map((r) => r.consumer);
    return done(
      `${label}: ${results.map((r) => r.consumer).join(', ') || 'no health checks declared'} healthy`,
    );
  }
  const step = ctx.run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
  const from = step?.waitingSince ?? ctx.now().toISOString();
  const detail = bad.map((r) => `${r.consumer} (${r.detail})`).join(', ');
  if (since(ctx, from) >= graceMs) {
    throw new RotatorError('verify_failed', `${label}: ${detail} unhealthy`, {
      context: { hint: bad.some((r) => r.status === 401) ? 'app_401_cached' : 'app_401_after_rotation' },
    });
  }
  return wait(ctx, `waiting for ${detail}`);
}

/**
 * Runbook step 5: every consumer healthy and the new key active at the issuer, before any revocation.
 * An issuer whose new keys take a while to be accepted everywhere (IAM is eventually consistent)
 * gets `newKeyConsistencyMs`: the step re-queues until then instead of failing.
 */
export async function verify(ctx: StepContext): Promise<StepOutcome> {
  const step = ctx.run.steps.find((s) => s.name === 'verify');
  // The issuer is asked on the first look (a rejected key fails at once) and again once every
  // consumer is healthy (fresh before revocation), not on every poll in between.
  const firstLook = step?.waitingSince === undefined;
  const consistencyMs = issuerPolicy(ctx.spec.issuer).newKeyConsistencyMs ?? 0;
  const graceMs = Math.max(ctx.deps.settings.verifyGraceMs, consistencyMs);
  // The first look asks the issuer and the consumers together: both are reads, and the issuer's
  // answer (a refusal fails or waits) is still the one that counts first.
  const [pending, out] = firstLook
    ? await Promise.all([
        issuerAcceptsNewKey(ctx, consistencyMs),
        settle(checkConsumers(ctx, 'new key', graceMs)),
      ])
    : [undefined, await settle(checkConsumers(ctx, 'new key', graceMs))];
  if (pending) return pending;
  if (!out.ok) throw out.error;
  if (out.value.kind !== 'done') return out.value;
  if (!firstLook) {
    const pending = await issuerAcceptsNewKey(ctx, consistencyMs);
    if (pending) return pending;
  }
  ctx.run.facts.verifiedAt = ctx.now().toISOString();
  return out.value;
}

/**
 * The new key is active at the issuer, and the issuer accepts the value the store holds; a refusal
 * inside the issuer's consistency window is a wait (the outcome returned), after it a failure.
 */
async function issuerAcceptsNewKey(
  ctx: StepContext,
  consistencyMs: number,
): Promise<StepOutcome | undefined> {
  const { run, spec, issuer } = ctx;
  const keyId = run.facts.newKeyId;
  // The key's status and what Vault holds, asked together: neither depends on the other.
  // A key the issuer refuses fails the step whatever Vault answered.
  const [status, read] = await Promise.all([
    keyId ? issuer.status(keyId) : undefined,
    settle(ctx.deps.store.read(spec.store)),
  ]);
  if (keyId && status !== 'active') {
    throw new RotatorError('verify_failed', `new key ${keyId} is ${status} at ${spec.issuer.name}`, {
      context: { hint: 'provider_rejects_new' },
    });
  }
  if (!read.ok) throw read.error;
  const current = read.value;
  if (current?.value && (await issuer.accepts(current.value, current.keyId))) return undefined;
  const step = run.steps.find((s) => s.name === 'verify');
  const from = step?.waitingSince ?? ctx.now().toISOString();
  if (current?.value && since(ctx, from) < consistencyMs) {
    return wait(
      ctx,
      `${spec.issuer.name} does not accept new key ${keyId ?? ''} yet: new keys are eventually consistent (up to ${Math.round(consistencyMs / 1000)}s)`,
    );
  }
  throw new RotatorError('verify_failed', `${spec.issuer.name} does not accept the new key`, {
    context: { hint: 'provider_rejects_new' },
  });
}
