import { isRotatorError, RotatorError } from '../../domain/errors';
import type { StoredCredential } from '../../domain/ports';
import type { Run } from '../../domain/run';
import { valueDigest } from '../../adapters/value-digest';
import type { Secret } from '../../domain/secret';
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
    return { known: true, current: await readStore(ctx) };
  } catch (e) {
    if (isRotatorError(e) && e.transient) return { known: false, reason: e.message };
    throw e;
  }
}

/** Reads the credential's current version and remembers it for the rest of this invocation. */
export async function readStore(ctx: StepContext): Promise<StoredCredential | undefined> {
  const current = await ctx.deps.store.read(ctx.spec.store);
  ctx.scratch.stored = { current };
  return current;
}

/**
 * What Vault holds, as this invocation last read it (no write since, the run's lock held), else
 * read now. Not for the read-back before a compensating action or a revocation: that is readTruth.
 */
export async function recentTruth(ctx: StepContext): Promise<StoreTruth> {
  return ctx.scratch.stored ? { known: true, current: ctx.scratch.stored.current } : readTruth(ctx);
}

/** recentTruth for a step that fails on an unreadable store rather than waiting for it. */
export async function recentStore(ctx: StepContext): Promise<StoredCredential | undefined> {
  return ctx.scratch.stored ? ctx.scratch.stored.current : readStore(ctx);
}

/** After any write to the store: what this invocation read before is no longer what Vault holds. */
export function storeWritten(ctx: StepContext): void {
  delete ctx.scratch.stored;
}

/** A salted digest of a value (adapters/value-digest): what a synced Secret is compared with; the value stays in memory. */
export const digestOf = (value: Secret): string => valueDigest(value.reveal());

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
