import { RotatorError, isRotatorError } from '../domain/errors';
import { nextStep, type Run, type StepState } from '../domain/run';
import { identityOf, type EngineDeps, type Scratch, type StepContext } from './context';
import { failureOf, planAfterFailure } from './failure';
import { SCHEDULED_PROCEDURE } from './scheduled';

export type AdvanceResult = { kind: 'finished'; run: Run } | { kind: 'wait'; delayMs: number; run: Run };

/** Errors that must not be turned into a run outcome: the job is retried and the run stays where it is. */
const mustRetry = (e: unknown) => isRotatorError(e) && e.code === 'audit_unavailable';

/**
 * Runs a rotation step by step, checkpointing each step in the run record. Called once per job
 * execution; returns when the run finishes or a step asks to be looked at again later.
 */
export class RotationEngine {
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

    const lock = await deps.runs.acquire(run.credential, run.id, deps.settings.lockTtlMs);
    if (!lock.ok)
      throw new RotatorError('locked', `credential ${run.credential} is locked by run ${lock.holder}`);

    const scratch: Scratch = {};
    const ctx: StepContext = {
      run,
      spec,
      deps,
      issuer: deps.issuerFor(spec),
      scratch,
      now: () => deps.clock.now(),
      checkpoint: () => this.save(run),
    };
    run.status = 'running';

    for (let step = nextStep(run); step; step = nextStep(run)) {
      if (step.status === 'pending') await this.begin(run, step);
      let outcome;
      try {
        outcome = await SCHEDULED_PROCEDURE[step.name](ctx);
      } catch (e) {
        if (mustRetry(e)) throw e;
        await this.fail(ctx, step, e);
        continue;
      }
      if (outcome.kind === 'wait') {
        step.status = 'waiting';
        step.detail = outcome.detail;
        step.waitingSince ??= ctx.now().toISOString();
        run.status = 'waiting';
        await this.save(run);
        await this.progress(run);
        return { kind: 'wait', delayMs: outcome.delayMs, run };
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
      await this.audit(run, step, 'step.completed', 'succeeded', step.detail);
      await this.save(run);
      await this.progress(run);
    }
    return this.finish(run);
  }

  private async begin(run: Run, step: StepState): Promise<void> {
    // Fail-closed: without its audit record the step does not run.
    await this.audit(run, step, 'step.started', 'started');
    step.status = 'running';
    step.startedAt = this.deps.clock.now().toISOString();
    await this.save(run);
    await this.progress(run);
  }

  private async fail(ctx: StepContext, step: StepState, e: unknown): Promise<void> {
    const { run } = ctx;
    const failure = failureOf(step, e);
    this.deps.logger.warn(
      { runId: run.id, step: step.name, code: failure.code, err: failure.message },
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
    if (revokeNewKey && run.facts.newKeyId) {
      // No orphan at the issuer: the store still points at the old, working key.
      try {
        await ctx.issuer.revoke(run.facts.newKeyId);
        run.facts.orphansRevoked = [...(run.facts.orphansRevoked ?? []), run.facts.newKeyId];
      } catch (revokeError) {
        // Left for the next rotation's orphan sweep; the run says so.
        run.failure = {
          ...run.failure!,
          message: `${run.failure!.message}; new key ${run.facts.newKeyId} could not be revoked yet (${failureOf(step, revokeError).message})`,
        };
      }
    }
    if (step.phase === 'forward' && run.outcome === 'rolled_back')
      run.facts.rollbackStartedAt = ctx.now().toISOString();
    await this.save(run);
    await this.progress(run);
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
    run.outcome ??= 'succeeded';
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

  private async save(run: Run): Promise<void> {
    run.updatedAt = this.deps.clock.now().toISOString();
    await this.deps.runs.save(run);
    await this.deps.runs.refresh(run.credential, run.id, this.deps.settings.lockTtlMs);
  }

  /** Progress in chat is best effort: a Slack outage must not stop a rotation mid-way. */
  private async progress(run: Run): Promise<void> {
    try {
      const { progressTs } = await this.deps.chat.progress(run);
      if (progressTs && run.slack && run.slack.progressTs !== progressTs) {
        run.slack.progressTs = progressTs;
        await this.deps.runs.save(run);
      }
    } catch (e) {
      this.deps.logger.warn({ runId: run.id, err: (e as Error).message }, 'progress message not updated');
    }
  }
}
