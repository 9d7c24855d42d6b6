import { RotatorError } from '../../domain/errors';
import type { StoredCredential } from '../../domain/ports';
import type { ManualAsk } from '../../domain/run';
import type { ManualAction, ManualConfirmations } from '../../queue/manual-confirmations';
import { done, since, wait, type StepContext, type StepOutcome } from '../context';
import { holdsNewKey, readTruth, storeWritten, waitForStore } from './store-truth';
import { checkConsumers } from './verify';

/** The id the store records for a key a person made: the bot never sees the console's own id. */
export const manualKeyId = (runId: string): string => `manual/${runId}`;

function confirmationsOf(ctx: StepContext): ManualConfirmations {
  const c = ctx.deps.confirmations;
  if (!c) throw new RotatorError('internal', 'manual runs need the confirmations store (wiring)');
  return c;
}

const testUrlOf = (ctx: StepContext): string | undefined =>
  ctx.spec.issuer.kind === 'manual' ? ctx.spec.issuer.testUrl : undefined;

/**
 * The runbook's store command with a placeholder for the value, which the shell reads unechoed.
 * `field` is the one the store reads the value from at `path`: any other and Stored is refused.
 */
export function storeCommand(path: string, field: string, baseVersion: number | undefined): string {
  const cas = baseVersion !== undefined ? ` -cas=${baseVersion}` : '';
  const variable = `NEW_${field.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return [
    `read -rs ${variable}   # paste the new value: not echoed, not in shell history`,
    `vault kv put${cas} secret/${path} ${field}="$${variable}" rotated_by="$USER"`,
  ].join('\n');
}

/**
 * Parks the run until people act: the progress message shows what to do (and a button), a
 * reminder goes to the thread every `manualReminderMs`, and the job looks again at least twice per
 * lock expiry so the credential stays locked. No worker is held in between.
 */
async function park(ctx: StepContext, awaiting: ManualAction, refusal?: string): Promise<StepOutcome> {
  const { run, spec, deps } = ctx;
  const issuer = spec.issuer.kind === 'manual' ? spec.issuer : undefined;
  const now = ctx.now().toISOString();
  const asked = run.manual?.awaiting === awaiting ? run.manual.askedAt : undefined;
  const ask: ManualAsk = {
    awaiting,
    checklist:
      awaiting === 'stored'
        ? (issuer?.steps ?? [])
        : [`Revoke (delete) the old key at ${issuer?.consoleUrl ?? spec.issuer.name}`, 'Then click Revoked'],
    ...(issuer?.consoleUrl ? { consoleUrl: issuer.consoleUrl } : {}),
    ...(awaiting === 'stored'
      ? { command: storeCommand(spec.store, deps.store.valueField(spec.store), run.facts.baseVersion) }
      : {}),
    ...((refusal ?? (asked ? run.manual?.refusal : undefined))
      ? { refusal: refusal ?? run.manual!.refusal! }
      : {}),
    askedAt: asked ?? now,
  };
  if (asked && since(ctx, asked) >= deps.settings.manualReminderMs && deps.chat.remind) {
    const what =
      awaiting === 'stored'
        ? 'store the new key in Vault and click *Stored*'
        : 'revoke the old key and click *Revoked*';
    await deps.chat.remind(
      run,
      `⏰ The rotation of *${spec.name}* is still waiting for someone to ${what} (run \`${run.id}\`).`,
    );
    ask.askedAt = now;
  }
  run.manual = ask;
  const detail =
    awaiting === 'stored'
      ? `waiting for a person to store the new key in secret/${spec.store} and click Stored`
      : `waiting for a person to revoke the old key at ${issuer?.consoleUrl ?? spec.issuer.name} and click Revoked`;
  const delayMs = Math.min(deps.settings.manualReminderMs, deps.settings.lockTtlMs / 2);
  return { kind: 'wait', delayMs, detail: refusal ? `${detail} — ${refusal}` : detail };
}

/** Whether `current` is a version a person wrote after the run began, with a value unlike the old one. */
function isNewValue(current: StoredCredential | undefined, base: StoredCredential | undefined): boolean {
  if (!current?.value || !base) return false;
  return current.version > base.version && !current.value.equals(base.value);
}

/**
 * Manual step 2: a person created the key at the console, wrote it to Vault and clicked Stored.
 * Vault must hold a new version with a new value, or the click is refused. The person's version is
 * then completed as a rotation (previous value kept for rollback, run marker, key id) by one
 * check-and-set write, read back when its answer is lost.
 */
export async function awaitStored(ctx: StepContext): Promise<StepOutcome> {
  const { run, spec, deps } = ctx;
  const truth = await readTruth(ctx);
  if (!truth.known) return waitForStore(ctx, truth.reason, 'the new key is checked once it answers');
  if (holdsNewKey(truth.current, run)) return stored(ctx, truth.current!.version);
  const confirmations = confirmationsOf(ctx);
  const click = await confirmations.get(run.id, 'stored');
  if (!click) return park(ctx, 'stored');
  const base =
    run.facts.baseVersion !== undefined
      ? await deps.store.read(spec.store, run.facts.baseVersion)
      : undefined;
  const current = truth.current;
  if (!isNewValue(current, base)) {
    await confirmations.clear(run.id, 'stored');
    const why = `Stored was clicked (${click.by}) but secret/${spec.store} has no new value (version ${current?.version ?? 'none'}): write it with the command below, then click Stored again`;
    await deps.audit.record({
      runId: run.id,
      credential: run.credential,
      action: 'manual.stored',
      step: 'await-stored',
      outcome: 'refused',
      identity: click.by,
      detail: why,
    });
    return park(ctx, 'stored', why);
  }
  try {
    storeWritten(ctx);
    const version = await deps.store.write(
      spec.store,
      {
        value: current!.value!,
        keyId: manualKeyId(run.id),
        previousValue: base!.value!,
        ...(base!.keyId ? { previousKeyId: base!.keyId } : {}),
        rotatedAt: ctx.now().toISOString(),
        rotatedBy: click.by,
        runId: run.id,
        ...(base!.metadata ? { metadata: base!.metadata } : {}),
      },
      current!.version,
    );
    await deps.audit.record({
      runId: run.id,
      credential: run.credential,
      action: 'manual.stored',
      step: 'await-stored',
      outcome: 'succeeded',
      identity: click.by,
      detail: `secret/${spec.store} version ${current!.version}`,
    });
    return stored(ctx, version);
  } catch (e) {
    const after = await readTruth(ctx);
    if (after.known && holdsNewKey(after.current, run)) return stored(ctx, after.current!.version);
    throw e;
  }
}

async function stored(ctx: StepContext, version: number): Promise<StepOutcome> {
  ctx.run.facts.newKeyId = manualKeyId(ctx.run.id);
  ctx.run.facts.newVersion = version;
  delete ctx.run.manual;
  await confirmationsOf(ctx).clear(ctx.run.id, 'stored');
  return done(`secret/${ctx.spec.store} version ${version} holds the new key (previous kept)`);
}

/** Manual verify: every consumer healthy, and the test URL accepts the new key where there is one. */
export async function verifyManual(ctx: StepContext): Promise<StepOutcome> {
  const out = await checkConsumers(ctx, 'new key');
  if (out.kind !== 'done') return out;
  if (testUrlOf(ctx)) {
    const current = await ctx.deps.store.read(ctx.spec.store);
    if (!current?.value || !(await ctx.issuer.accepts(current.value))) {
      throw new RotatorError(
        'verify_failed',
        `the test URL of ${ctx.spec.issuer.name} does not accept the new key`,
        {
          context: { hint: 'provider_rejects_new' },
        },
      );
    }
  }
  ctx.run.facts.verifiedAt = ctx.now().toISOString();
  return out;
}

/**
 * Manual step 5: a person revoked the old key at the console and clicked Revoked. Where a test URL
 * is configured the old value must be rejected there, waiting out the provider's propagation delay;
 * a click it contradicts is refused.
 */
export async function awaitRevoked(ctx: StepContext): Promise<StepOutcome> {
  const { run, spec, deps } = ctx;
  const confirmations = confirmationsOf(ctx);
  const click = await confirmations.get(run.id, 'revoked');
  if (!click) return park(ctx, 'revoked');
  let how = 'not tested (no test URL)';
  if (testUrlOf(ctx)) {
    const old = (await deps.store.read(spec.store))?.previousValue;
    if (old && (await ctx.issuer.accepts(old))) {
      if (since(ctx, click.at) < deps.settings.propagationMs)
        return wait(
          ctx,
          `Revoked clicked (${click.by}); the test URL still accepts the old key, waiting for the revocation to propagate`,
        );
      await confirmations.clear(run.id, 'revoked');
      const why = `Revoked was clicked (${click.by}) but the test URL still accepts the old key ${Math.round(deps.settings.propagationMs / 60_000)} minutes later: revoke it at the console, then click Revoked again`;
      await deps.audit.record({
        runId: run.id,
        credential: run.credential,
        action: 'manual.revoked',
        step: 'await-revoked',
        outcome: 'refused',
        identity: click.by,
        detail: why,
      });
      return park(ctx, 'revoked', why);
    }
    how = 'the test URL rejects it';
  }
  await deps.audit.record({
    runId: run.id,
    credential: run.credential,
    action: 'manual.revoked',
    step: 'await-revoked',
    outcome: 'succeeded',
    identity: click.by,
    detail: how,
  });
  run.facts.revokedAt = ctx.now().toISOString();
  delete run.manual;
  await confirmations.clear(run.id, 'revoked');
  return done(`old key revoked at the console by ${click.by}; ${how}`);
}

/** Rollback of a manual run: the bot cannot delete the person's new key; it says who must. */
export async function revokeNewManual(ctx: StepContext): Promise<StepOutcome> {
  const where =
    ctx.spec.issuer.kind === 'manual'
      ? (ctx.spec.issuer.consoleUrl ?? ctx.spec.issuer.name)
      : ctx.spec.issuer.name;
  return Promise.resolve(done(`Vault serves the previous key again: delete the new key at ${where} by hand`));
}
