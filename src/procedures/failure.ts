import { isRotatorError, safeMessage } from '../domain/errors';
import { completedOutcome, ROLLBACK_STEPS, type Run, type RunFailure, type StepState } from '../domain/run';
import { hintFor } from '../domain/troubleshooting';

export function failureOf(step: StepState, e: unknown): RunFailure {
  const code = isRotatorError(e) ? e.code : 'internal';
  const hint = hintFor(code, isRotatorError(e) ? e.context.hint : undefined);
  return { step: step.name, code, message: safeMessage(e), ...(hint ? { hint } : {}) };
}

const skip = (s: StepState) => {
  if (s.status === 'pending') s.status = 'skipped';
};

/**
 * What a failed step means for the rest of the run. Before the store holds the new key, the run
 * fails cleanly (the new key is revoked by the caller); once consumers may hold it, it rolls back;
 * a refused or failed revocation leaves the new key in service and the old one for a human.
 * `notify` always stays so the outcome is reported.
 */
export function planAfterFailure(
  run: Run,
  failed: StepState,
  failure: RunFailure,
): { revokeNewKey: boolean } {
  const remaining = run.steps.filter((s) => s.status === 'pending' && s.name !== 'notify');
  if (failed.name === 'notify') {
    // The rotation's outcome does not depend on Slack: keep it, say the summary is missing.
    run.outcome ??= completedOutcome(run);
    run.notifyError = failure.message;
    return { revokeNewKey: false };
  }
  run.failure ??= failure;
  if (run.procedure === 'emergency') return planEmergencyFailure(run, failed, remaining);
  if (failed.phase === 'rollback') {
    run.outcome = 'failed';
    run.failure = {
      ...failure,
      message: `rollback failed at ${failed.name}: ${failure.message} — manual action required`,
    };
    remaining.forEach(skip);
    return { revokeNewKey: false };
  }
  switch (failed.name) {
    case 'check-dependencies':
      run.outcome = ['old_key_in_use', 'deploy_failed', 'key_limit'].includes(failure.code)
        ? 'refused'
        : 'failed';
      remaining.forEach(skip);
      return { revokeNewKey: false };
    case 'generate':
    case 'store-new':
      run.outcome = 'failed';
      remaining.forEach(skip);
      return { revokeNewKey: true };
    case 'deploy':
    case 'verify': {
      run.outcome = 'rolled_back';
      remaining.forEach(skip);
      const at = run.steps.findIndex((s) => s.name === 'notify');
      const rollback: StepState[] = ROLLBACK_STEPS.map((name) => ({
        name,
        phase: 'rollback',
        status: 'pending',
      }));
      run.steps.splice(at < 0 ? run.steps.length : at, 0, ...rollback);
      return { revokeNewKey: false };
    }
    case 'revoke-old':
      run.outcome = failure.code === 'old_key_in_use' ? 'refused' : 'failed';
      remaining.forEach(skip);
      return { revokeNewKey: false };
    case 'record':
      // The old key is revoked and the new one verified: the rotation happened. What is left is
      // clearing previous_key in Vault, which the reconciler retries until it is done.
      if (run.facts.revokedAt) {
        run.outcome = 'succeeded';
        run.facts.recordPending = true;
        delete run.failure;
        remaining.forEach(skip);
        return { revokeNewKey: false };
      }
      run.outcome = 'failed';
      remaining.forEach(skip);
      return { revokeNewKey: false };
    default:
      run.outcome = 'failed';
      remaining.forEach(skip);
      return { revokeNewKey: false };
  }
}

/** Emergency steps that still run after any failure: the compromised key must go, the incident must know. */
const EMERGENCY_ALWAYS = new Set(['revoke-compromised', 'incident-record']);

/**
 * An emergency never rolls back (that would reinstate the compromised key): it fails, but still
 * revokes the compromised key if it has not yet, writes the incident record and reports.
 */
function planEmergencyFailure(
  run: Run,
  failed: StepState,
  remaining: StepState[],
): { revokeNewKey: boolean } {
  run.outcome = 'failed';
  if (failed.name === 'verify' || failed.name === 'deploy') run.facts.verificationPending = true;
  remaining.filter((s) => !EMERGENCY_ALWAYS.has(s.name)).forEach(skip);
  return { revokeNewKey: failed.name === 'generate' || failed.name === 'store-new' };
}
