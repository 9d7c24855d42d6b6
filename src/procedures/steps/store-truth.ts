import { isRotatorError, RotatorError } from '../../domain/errors';
import type { StoredCredential } from '../../domain/ports';
import type { Run } from '../../domain/run';
import { since, type StepContext, type StepOutcome } from '../context';

/** What Vault holds now: the current version (undefined when absent), or unknown when it cannot be read. */
export type StoreTruth =
  { known: true; current: StoredCredential | undefined } | { known: false; reason: string };

/**
 * Reads the credential back from the store. A transient failure (timeout, 5xx, refused connection)
 * is "unknown", never "absent": a write whose answer was lost may have landed, so nobody may revoke
 * or roll back on a guess. Permanent failures (permission denied) still throw.
 */
export async function readTruth(ctx: StepContext): Promise<StoreTruth> {
  try {
    return { known: true, current: await ctx.deps.store.read(ctx.spec.store) };
  } catch (e) {
    if (isRotatorError(e) && e.transient) return { known: false, reason: e.message };
    throw e;
  }
}

/** Whether `current` is the version this run's store-new wrote (its marker and its key id). */
export function holdsNewKey(current: StoredCredential | undefined, run: Run): boolean {
  if (!current) return false;
  if (run.facts.newKeyId && current.keyId === run.facts.newKeyId) return true;
  return current.runId === run.id && current.keyId !== run.facts.oldKeyId;
}

/**
 * Waits for the store to answer again, keeping every key as it is; after `transientRetryMs` the
 * step fails with `store_unavailable`, still without any compensating action on a guess.
 */
export function waitForStore(ctx: StepContext, reason: string, what: string): StepOutcome {
  const step = ctx.run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
  const from = step?.waitingSince ?? ctx.now().toISOString();
  if (since(ctx, from) >= ctx.deps.settings.transientRetryMs) {
    throw new RotatorError(
      'store_unavailable',
      `secret/${ctx.spec.store} could not be read back for ${Math.round(ctx.deps.settings.transientRetryMs / 1000)}s (${reason}): ${what}`,
      { context: { storeUnknown: true } },
    );
  }
  return {
    kind: 'wait',
    delayMs: ctx.deps.settings.pollIntervalMs,
    detail: `Vault cannot be read (${reason}); ${what}`,
  };
}

/**
 * The new key's value was lost with the worker that created it, and Vault (just read) does not hold
 * it: revoke the key nobody can use and generate again.
 */
export async function redoLostKey(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const lost = run.facts.newKeyId;
  if (lost) {
    await ctx.issuer.revoke(lost);
    run.facts.orphansRevoked = [...(run.facts.orphansRevoked ?? []), lost];
    delete run.facts.newKeyId;
  }
  return {
    kind: 'redo',
    step: 'generate',
    detail: `key ${lost ?? '?'} was never stored: revoked, generating again`,
  };
}

/** The store's `username` for a key whose issuer names logins (database users); nothing otherwise. */
export function loginFields(ctx: StepContext, keyId: string | undefined): { username?: string } {
  const username = keyId ? ctx.issuer.loginOf?.(keyId) : undefined;
  return username ? { username } : {};
}
