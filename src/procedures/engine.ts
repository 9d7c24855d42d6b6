import { RotatorError, isRotatorError } from '../domain/errors';
import { completedOutcome, nextStep, type Run, type StepState } from '../domain/run';
import { retryAfterOf } from '../adapters/retry';
import type { CredentialSpec } from '../domain/credential';
import { identityOf, since, type EngineDeps, type Scratch, type StepContext } from './context';
import { failureOf, planAfterFailure } from './failure';
import { stepFor } from './scheduled';
import { holdsNewKey, readTruth } from './steps/store-truth';

export type AdvanceResult =
  | { kind: 'finished'; run: Run }
  /** `wake` resolving true: what the run waits for happened, so its delayed job may run now. */
  | { kind: 'wait'; delayMs: number; run: Run; wake?: Promise<boolean> };

/** Errors that must not be turned into a run outcome: the job is retried and the run stays where it is. */
const mustRetry = (e: unknown) => isRotatorError(e) && e.code === 'audit_unavailable';

/** How long an emergency keeps retrying a transient failure before it gives up on a step. */
const EMERGENCY_RETRY_MS = 3_600_000;

/**
 * A wait this short (the first looks after a force-sync) is slept in the job rather than re-queued:
 * a re-queue costs a delayed job, its promotion, the run read again and the lock taken again, more
 * than the wait itself, and it adds the queue's own latency to every rotation.
 */
const SLEEP_UP_TO_MS = 100;
/** In all, a job holds its worker slot this long at most for such waits before it re-queues. */
const SLEEP_BUDGET_MS = 400;

/** How long progress may hold up a step: Slack being slow or down must not slow a rotation. */
const PROGRESS_TIMEOUT_MS = 3_000;

/** For the worker log only: what an unexpected error was, without anything a client attached to it. */
function describeUnexpected(e: unknown): Record<string, unknown> {
  if (isRotatorError(e)) return { code: e.code, context: e.context };
  const err = e as { name?: unknown; code?: unknown; stack?: unknown; response?: { statusCode?: unknown } };
  return { name: err?.name, code: err?.code, status: err?.response?.statusCode, stack: err?.stack };
}

/**
 * Runs a rotation step by step, checkpointing each step in the run record. Called once per job
 * execution; returns when the run finishes or a step asks to be looked at again later.
 */
export class RotationEngine {
  /** When this job last extended the run's credential lock (per Run object: per job execution). */
  private readonly lockRefreshedAt = new WeakMap<Run, number>();

  constructor(private readonly deps: EngineDeps) {}

  async advance(runId: string): Promise<AdvanceResult> {
    const { deps } = this;
    const run = await deps.runs.get(runId);
    if (!run) throw new RotatorError('internal', `run ${runId} does not exist`);
    if (run.status === 'finished') return { kind: 'finished', run };
    const spec = deps.catalog.get(run.credential);
    if (!spec)
      throw new RotatorError(
        'unknown_credential',
        `credential ${run.credential} is no longer in the catalog`,
      );

    let lock: { ok: true } | { ok: false; holder: string };
    if (run.procedure === 'emergency') lock = await this.holdForEmergency(run);
    else {
      // Asked together: a run taken over finds its lock gone to the emergency, so the acquire
      // changes nothing then; and a takeover that lands between the two is told apart from a lock
      // another run holds.
      const [taken, got] = await Promise.all([
        this.takenOver(run),
        deps.runs.acquire(run.credential, run.id, deps.settings.lockTtlMs),
      ]);
      if (taken || (!got.ok && (await this.takenOver(run)))) return this.yieldToEmergency(run, spec);
      lock = got;
    }
    if (!lock.ok)
      throw new RotatorError('locked', `credential ${run.credential} is locked by run ${lock.holder}`);
    this.lockRefreshedAt.set(run, deps.clock.now().getTime());

    const ctx = this.contextFor(run, spec);
    run.status = 'running';
    let slept = 0;

    for (let step = nextStep(run); step; step = nextStep(run)) {
      if (step.status === 'pending') {
        await this.begin(run, step);
        await this.save(run);
        await this.progress(run);
      }
      let outcome;
      let retrying = false;
      try {
        outcome = await stepFor(run.procedure, step.name)(ctx);
      } catch (e) {
        if (mustRetry(e)) throw e;
        if (this.worthWaiting(ctx, step, e)) {
          retrying = true;
          outcome = {
            kind: 'wait' as const,
            delayMs: Math.max(retryAfterOf(e) ?? 0, deps.settings.pollIntervalMs),
            detail: `retrying after ${isRotatorError(e) ? e.code : 'an error'}: ${isRotatorError(e) ? e.message : ''}`,
          };
        } else {
          await this.fail(ctx, step, e);
          continue;
        }
      }
      // A failure's retry is re-queued whatever its delay: the run shows it is waiting, and why.
      if (outcome.kind === 'wait' && !retrying && this.sleepable(outcome, slept)) {
        slept += outcome.delayMs;
        await new Promise((resolve) => setTimeout(resolve, outcome.delayMs));
        // What a re-queued job would have checked first: an emergency may have taken over meanwhile.
        if (await this.takenOver(run)) return this.yieldToEmergency(run, spec);
        continue;
      }
      if (outcome.kind === 'wait') {
        step.status = 'waiting';
        step.detail = outcome.detail;
        step.waitingSince ??= ctx.now().toISOString();
        run.status = 'waiting';
        await this.save(run);
        await this.progress(run);
        return {
          kind: 'wait',
          delayMs: outcome.delayMs,
          run,
          ...('wake' in outcome && outcome.wake ? { wake: outcome.wake } : {}),
        };
      }
      if (outcome.kind === 'redo') {
        this.reset(run, step, outcome.step, outcome.detail);
        await this.save(run);
        continue;
      }
      step.status = 'done';
      step.endedAt = ctx.now().toISOString();
      if (outcome.detail) step.detail = outcome.detail;
      delete step.waitingSince;
      // A step boundary: an emergency that took the credential over stops a scheduled run here.
      const [taken] = await Promise.all([
        this.takenOver(run),
        this.audit(run, step, 'step.completed', 'succeeded', step.detail),
      ]);
      if (taken) return this.yieldToEmergency(run, spec);
      // One save per step boundary: this step's end with the next one's start (or the run's finish).
      const next = nextStep(run);
      if (!next) break;
      if (next.status === 'pending') {
        try {
          await this.begin(run, next);
        } catch (e) {
          // The next step did not start (its audit record failed): this one's end is kept.
          await this.save(run).catch(() => undefined);
          throw e;
        }
      }
      await this.save(run);
      await this.progress(run);
    }
    return this.finish(run);
  }

  /** A short wait with nothing to wake it, within what this job may still sleep. */
  private sleepable(outcome: { delayMs: number; wake?: Promise<boolean> }, slept: number): boolean {
    return !outcome.wake && outcome.delayMs <= SLEEP_UP_TO_MS && slept + outcome.delayMs <= SLEEP_BUDGET_MS;
  }

  /**
   * A transient dependency failure re-queues the step until `transientRetryMs` has passed since the
   * step started, instead of failing (and rolling back) on a few seconds of trouble; an emergency
   * keeps trying for an hour at least, since giving up leaves the compromised key in service.
   * store-new is the exception: a re-queue loses the new value anyway, so it fails cleanly at once.
   */
  private worthWaiting(ctx: StepContext, step: StepState, e: unknown): boolean {
    if (!isRotatorError(e) || !e.transient || step.name === 'store-new') return false;
    const window =
      ctx.run.procedure === 'emergency'
        ? Math.max(this.deps.settings.transientRetryMs, EMERGENCY_RETRY_MS)
        : this.deps.settings.transientRetryMs;
    return step.startedAt !== undefined && since(ctx, step.startedAt) < window;
  }

  /** Whether an emergency run (not this one) has taken this run's credential over. */
  private async takenOver(run: Run): Promise<boolean> {
    if (run.procedure === 'emergency') return false;
    const taker = await this.deps.runs.takenOverBy(run.credential);
    return taker !== undefined && taker !== run.id;
  }

  /** An emergency run owns its credential's lock whatever happened since it was started. */
  private async holdForEmergency(run: Run): Promise<{ ok: true }> {
    const { runs, settings } = this.deps;
    if (!(await runs.refresh(run.credential, run.id, settings.lockTtlMs))) {
      await runs.takeOver(run.credential, run.id, settings.lockTtlMs);
    }
    return { ok: true };
  }

  /**
   * Stops a run an emergency took over, at a step boundary: a new key it created that Vault does
   * not serve is revoked (one Vault serves, the emergency revokes as compromised), and the run ends
   * as failed, saying who took over. Its lock already belongs to the emergency.
   */
  private async yieldToEmergency(run: Run, spec: CredentialSpec): Promise<AdvanceResult> {
    const taker = await this.deps.runs.takenOverBy(run.credential);
    const step = nextStep(run) ?? run.steps[run.steps.length - 1]!;
    run.failure = {
      step: step.name,
      code: 'taken_over',
      message: `stopped before ${step.name}: emergency run ${taker ?? '?'} took ${run.credential} over`,
    };
    run.outcome = 'failed';
    const ctx = this.contextFor(run, spec);
    if (run.facts.newKeyId && !run.facts.revokedAt) await this.revokeUnstoredKey(ctx, step);
    for (const s of run.steps)
      if (s.status === 'pending' || s.status === 'waiting' || s.status === 'running') s.status = 'skipped';
    await this.deps.audit.record({
      runId: run.id,
      credential: run.credential,
      action: 'run.taken_over',
      outcome: 'refused',
      identity: identityOf(run),
      detail: run.failure.message,
    });
    await this.deps.chat.summary(run, spec).catch((e: unknown) => {
      run.notifyError = (e as Error).message;
    });
    return this.finish(run);
  }

  /**
   * Finishes a run whose job gave up (attempts exhausted, or an error retrying cannot fix): outcome
   * failed, the lock released, the summary posted, so nobody waits on a run that will not move.
   */
  async abandon(runId: string, reason: string): Promise<void> {
    const run = await this.deps.runs.get(runId);
    if (!run || run.status === 'finished') return;
    const step = run.steps.find((s) => s.status === 'running' || s.status === 'waiting');
    run.outcome = 'failed';
    run.failure = {
      step: step?.name ?? run.steps[0]!.name,
      code: 'abandoned',
      message: `the run stopped at ${step?.name ?? 'its start'}: ${reason}. Check the store and the issuer before rotating again`,
    };
    if (step) {
      step.status = 'failed';
      step.endedAt = this.deps.clock.now().toISOString();
      step.detail = reason;
    }
    for (const s of run.steps) if (s.status === 'pending' && s.name !== 'notify') s.status = 'skipped';
    const spec = this.deps.catalog.get(run.credential);
    if (spec) {
      await this.deps.chat.summary(run, spec).catch((e: unknown) => {
        run.notifyError = (e as Error).message;
      });
    }
    const notify = run.steps.find((s) => s.name === 'notify');
    if (notify && notify.status === 'pending') notify.status = run.notifyError ? 'failed' : 'done';
    await this.finish(run);
  }

  private contextFor(run: Run, spec: CredentialSpec): StepContext {
    const scratch: Scratch = {};
    return {
      run,
      spec,
      deps: this.deps,
      issuer: this.deps.issuerFor(spec),
      scratch,
      now: () => this.deps.clock.now(),
      checkpoint: () => this.save(run),
    };
  }

  /** Audits a step's start and marks it running; the caller saves (with the previous step's end). */
  private async begin(run: Run, step: StepState): Promise<void> {
    // Fail-closed: without its audit record the step does not run.
    await this.audit(run, step, 'step.started', 'started');
    step.status = 'running';
    step.startedAt = this.deps.clock.now().toISOString();
  }

  private async fail(ctx: StepContext, step: StepState, e: unknown): Promise<void> {
    const { run } = ctx;
    const failure = failureOf(step, e);
    this.deps.logger.warn(
      {
        runId: run.id,
        step: step.name,
        code: failure.code,
        err: failure.message,
        cause: describeUnexpected(e),
      },
      'step failed',
    );
    step.status = 'failed';
    step.endedAt = ctx.now().toISOString();
    step.detail = failure.message;
    await this.audit(
      run,
      step,
      'step.failed',
      failure.code === 'old_key_in_use' ? 'refused' : 'failed',
      failure.message,
    );
    const { revokeNewKey } = planAfterFailure(run, step, failure);
    if (revokeNewKey && run.facts.newKeyId) await this.revokeUnstoredKey(ctx, step);
    if (step.phase === 'forward' && run.outcome === 'rolled_back')
      run.facts.rollbackStartedAt = ctx.now().toISOString();
    await this.save(run);
    await this.progress(run);
  }

  /**
   * Revokes the new key of a run that failed before its key was in service, so no orphan is left at
   * the issuer, but only once Vault, read back, shows it does not hold that key: a write whose answer
   * was lost may have landed, and revoking the key Vault serves would break every consumer.
   */
  private async revokeUnstoredKey(ctx: StepContext, step: StepState): Promise<void> {
    const { run } = ctx;
    const keyId = run.facts.newKeyId!;
    const note = (text: string) => {
      run.failure = { ...run.failure!, message: `${run.failure!.message}; ${text}` };
    };
    let truth;
    try {
      truth = await readTruth(ctx);
    } catch (e) {
      truth = { known: false as const, reason: failureOf(step, e).message };
    }
    if (!truth.known) {
      return note(
        `new key ${keyId} was kept: Vault could not be read to confirm it does not hold it (${truth.reason})`,
      );
    }
    if (holdsNewKey(truth.current, run)) {
      return note(`new key ${keyId} was kept: Vault holds it as current (version ${truth.current!.version})`);
    }
    try {
      await ctx.issuer.revoke(keyId);
      run.facts.orphansRevoked = [...(run.facts.orphansRevoked ?? []), keyId];
    } catch (revokeError) {
      // Left for the next rotation's orphan sweep; the run says so.
      note(`new key ${keyId} could not be revoked yet (${failureOf(step, revokeError).message})`);
    }
  }

  private reset(run: Run, from: StepState, to: string, detail: string): void {
    let resetting = false;
    for (const s of run.steps) {
      if (s.name === to) resetting = true;
      if (resetting) {
        s.status = 'pending';
        delete s.startedAt;
        delete s.endedAt;
        delete s.waitingSince;
      }
      if (s === from) break;
    }
    const target = run.steps.find((s) => s.name === to);
    if (target) target.detail = detail;
  }

  private async finish(run: Run): Promise<AdvanceResult> {
    run.status = 'finished';
    run.outcome ??= completedOutcome(run);
    await this.deps.audit.record({
      runId: run.id,
      credential: run.credential,
      action: 'run.finished',
      outcome: run.outcome === 'succeeded' ? 'succeeded' : run.outcome === 'refused' ? 'refused' : 'failed',
      identity: identityOf(run),
      detail: run.failure ? `${run.outcome}: ${run.failure.message}` : run.outcome,
    });
    await this.save(run);
    await this.deps.runs.release(run.credential, run.id);
    if (run.procedure === 'emergency') await this.deps.runs.endTakeover(run.credential, run.id);
    await this.progress(run);
    return { kind: 'finished', run };
  }

  private async audit(
    run: Run,
    step: StepState,
    action: string,
    outcome: 'started' | 'succeeded' | 'failed' | 'refused',
    detail?: string,
  ) {
    await this.deps.audit.record({
      runId: run.id,
      credential: run.credential,
      action,
      step: step.name,
      outcome,
      identity: identityOf(run),
      ...(detail ? { detail } : {}),
    });
  }

  /**
   * Saves what changed. The lock was extended when this job took the run up; a save extends it
   * again only once a quarter of its lifetime has gone by since (a lock refresh per save was a
   * third of a rotation's Redis commands).
   */
  private async save(run: Run): Promise<void> {
    const now = this.deps.clock.now().getTime();
    run.updatedAt = new Date(now).toISOString();
    const ttl = this.deps.settings.lockTtlMs;
    const stale = now - (this.lockRefreshedAt.get(run) ?? 0) > ttl / 4;
    if (stale && run.status !== 'finished') this.lockRefreshedAt.set(run, now);
    await this.deps.runs.save(run, stale && run.status !== 'finished' ? { refreshLockMs: ttl } : {});
  }

  /** Progress in chat is best effort: a Slack outage must not stop a rotation mid-way. */
  private async progress(run: Run): Promise<void> {
    try {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<{ progressTs?: string }>((resolve) => {
        timer = setTimeout(() => resolve({}), PROGRESS_TIMEOUT_MS);
      });
      const { progressTs } = await Promise.race([this.deps.chat.progress(run), timeout]).finally(() =>
        clearTimeout(timer),
      );
      if (progressTs && run.slack && run.slack.progressTs !== progressTs) {
        run.slack.progressTs = progressTs;
        await this.deps.runs.save(run);
      }
    } catch (e) {
      this.deps.logger.warn({ runId: run.id, err: (e as Error).message }, 'progress message not updated');
    }
  }
}
