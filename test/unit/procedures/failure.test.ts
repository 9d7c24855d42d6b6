import { RotatorError, type ErrorCode } from '../../../src/domain/errors';
import { newRun, type Run, type RunFailure, type StepName, type StepState } from '../../../src/domain/run';
import type { TroubleshootingKey } from '../../../src/domain/troubleshooting';
import { failureOf, planAfterFailure } from '../../../src/procedures/failure';

const NOW = new Date('2025-06-01T00:00:00.000Z');

/** A run whose steps before `failing` are done and `failing` itself has failed. */
function runFailingAt(failing: StepName): { run: Run; step: StepState } {
  const run = newRun({
    id: 'run-1',
    credential: 'payment-gateway-api',
    requester: { kind: 'slack', id: 'U_ALICE' },
    now: NOW,
  });
  const at = run.steps.findIndex((s) => s.name === failing);
  run.steps.forEach((s, i) => {
    if (i < at) s.status = 'done';
  });
  const step = run.steps[at];
  if (!step) throw new Error(`no step ${failing}`);
  step.status = 'failed';
  return { run, step };
}

const failure = (step: StepName, code: string, message = 'it broke'): RunFailure => ({ step, code, message });
const statuses = (run: Run) => run.steps.map((s) => `${s.name}:${s.status}`);

describe('planAfterFailure', () => {
  describe('when check-dependencies fails', () => {
    it.each<[string, string]>([
      ['old_key_in_use', 'refused'],
      ['deploy_failed', 'refused'],
      ['store_unavailable', 'failed'],
      ['internal', 'failed'],
    ])('with %s the run is %s, nothing was issued so nothing is revoked', (code, outcome) => {
      const { run, step } = runFailingAt('check-dependencies');
      const { revokeNewKey } = planAfterFailure(run, step, failure('check-dependencies', code));
      expect(run.outcome).toBe(outcome);
      expect(revokeNewKey).toBe(false);
      expect(statuses(run)).toEqual([
        'check-dependencies:failed',
        'generate:skipped',
        'store-new:skipped',
        'deploy:skipped',
        'verify:skipped',
        'revoke-old:skipped',
        'record:skipped',
        'notify:pending',
      ]);
    });
  });

  describe.each<StepName>(['generate', 'store-new'])('when %s fails', (name) => {
    it('fails the run and asks the caller to revoke the new key', () => {
      const { run, step } = runFailingAt(name);
      const { revokeNewKey } = planAfterFailure(run, step, failure(name, 'issuer_unavailable'));
      expect(run.outcome).toBe('failed');
      expect(revokeNewKey).toBe(true);
      expect(run.failure).toEqual(failure(name, 'issuer_unavailable'));
    });

    it('skips the later steps but still notifies, and inserts no rollback', () => {
      const { run, step } = runFailingAt(name);
      planAfterFailure(run, step, failure(name, 'issuer_unavailable'));
      expect(run.steps.some((s) => s.phase === 'rollback')).toBe(false);
      const after = run.steps.slice(run.steps.indexOf(step) + 1);
      expect(after.map((s) => s.status)).toEqual([...after.slice(0, -1).map(() => 'skipped'), 'pending']);
      expect(after.at(-1)?.name).toBe('notify');
    });
  });

  describe.each<StepName>(['deploy', 'verify'])('when %s fails', (name) => {
    it('rolls back: the four rollback steps go before notify, later forward steps are skipped', () => {
      const { run, step } = runFailingAt(name);
      const { revokeNewKey } = planAfterFailure(run, step, failure(name, 'verify_failed'));
      expect(run.outcome).toBe('rolled_back');
      // The rollback's own revoke-new step revokes the new key, not the caller.
      expect(revokeNewKey).toBe(false);
      expect(run.steps.map((s) => [s.name, s.phase, s.status])).toEqual([
        ['check-dependencies', 'forward', 'done'],
        ['generate', 'forward', 'done'],
        ['store-new', 'forward', 'done'],
        ['deploy', 'forward', name === 'deploy' ? 'failed' : 'done'],
        ['verify', 'forward', name === 'verify' ? 'failed' : 'skipped'],
        ['revoke-old', 'forward', 'skipped'],
        ['record', 'forward', 'skipped'],
        ['restore-previous', 'rollback', 'pending'],
        ['redeploy-previous', 'rollback', 'pending'],
        ['reverify-previous', 'rollback', 'pending'],
        ['revoke-new', 'rollback', 'pending'],
        ['notify', 'forward', 'pending'],
      ]);
    });

    it('keeps the forward failure as the reason', () => {
      const { run, step } = runFailingAt(name);
      planAfterFailure(run, step, failure(name, 'verify_failed', 'web-app health returned 401'));
      expect(run.failure).toEqual(failure(name, 'verify_failed', 'web-app health returned 401'));
    });
  });

  describe('when revoke-old fails', () => {
    it('with old_key_in_use the run is refused and the new key stays in service', () => {
      const { run, step } = runFailingAt('revoke-old');
      const { revokeNewKey } = planAfterFailure(run, step, failure('revoke-old', 'old_key_in_use'));
      expect(run.outcome).toBe('refused');
      expect(revokeNewKey).toBe(false);
      expect(run.steps.some((s) => s.phase === 'rollback')).toBe(false);
      expect(statuses(run).slice(-2)).toEqual(['record:skipped', 'notify:pending']);
    });

    it('with any other error the run fails without rolling back', () => {
      const { run, step } = runFailingAt('revoke-old');
      const { revokeNewKey } = planAfterFailure(run, step, failure('revoke-old', 'old_key_still_active'));
      expect(run.outcome).toBe('failed');
      expect(revokeNewKey).toBe(false);
      expect(run.steps.some((s) => s.phase === 'rollback')).toBe(false);
    });
  });

  describe('when record fails', () => {
    it('fails the run, still notifies and revokes nothing', () => {
      const { run, step } = runFailingAt('record');
      const { revokeNewKey } = planAfterFailure(run, step, failure('record', 'audit_unavailable'));
      expect(run.outcome).toBe('failed');
      expect(revokeNewKey).toBe(false);
      expect(statuses(run).at(-1)).toBe('notify:pending');
    });
  });

  describe('when a rollback step fails', () => {
    function rollbackFailingAt(name: StepName) {
      const { run, step } = runFailingAt('verify');
      planAfterFailure(run, step, failure('verify', 'verify_failed', 'web-app health returned 401'));
      const at = run.steps.findIndex((s) => s.name === name);
      run.steps.forEach((s, i) => {
        if (s.phase === 'rollback' && i < at) s.status = 'done';
      });
      const failed = run.steps[at];
      if (!failed) throw new Error(`no step ${name}`);
      failed.status = 'failed';
      return { run, failed };
    }

    it('fails the run and says manual action is required', () => {
      const { run, failed } = rollbackFailingAt('redeploy-previous');
      const { revokeNewKey } = planAfterFailure(
        run,
        failed,
        failure('redeploy-previous', 'deploy_failed', 'rollout of payments/web-app timed out'),
      );
      expect(run.outcome).toBe('failed');
      expect(revokeNewKey).toBe(false);
      expect(run.failure).toEqual({
        step: 'redeploy-previous',
        code: 'deploy_failed',
        message:
          'rollback failed at redeploy-previous: rollout of payments/web-app timed out — manual action required',
      });
    });

    it('skips the remaining rollback steps but still notifies', () => {
      const { run, failed } = rollbackFailingAt('redeploy-previous');
      planAfterFailure(run, failed, failure('redeploy-previous', 'deploy_failed'));
      expect(statuses(run).slice(-5)).toEqual([
        'restore-previous:done',
        'redeploy-previous:failed',
        'reverify-previous:skipped',
        'revoke-new:skipped',
        'notify:pending',
      ]);
    });
  });
});

describe('failureOf', () => {
  const step: StepState = { name: 'verify', phase: 'forward', status: 'running' };

  it('records the step, code and message of a RotatorError', () => {
    const e = new RotatorError('store_unavailable', 'vault at 127.0.0.1:8200 returned 503', {
      transient: true,
    });
    expect(failureOf(step, e)).toEqual({
      step: 'verify',
      code: 'store_unavailable',
      message: 'vault at 127.0.0.1:8200 returned 503',
    });
  });

  describe('when the error context names a troubleshooting row', () => {
    it('uses that hint over the default for the code', () => {
      const e = new RotatorError('verify_failed', 'web-app still rejects', {
        context: { hint: 'app_401_cached' },
      });
      expect(failureOf(step, e).hint).toBe('app_401_cached');
    });
  });

  describe('when the error context names no known row', () => {
    it('falls back to the default hint for the code', () => {
      const e = new RotatorError('verify_failed', 'web-app still rejects', {
        context: { hint: 'no_such_row' },
      });
      expect(failureOf(step, e).hint).toBe('app_401_after_rotation');
    });
  });

  describe('when the error has no hint of its own', () => {
    it.each<[ErrorCode, TroubleshootingKey]>([
      ['store_permission_denied', 'vault_permission_denied'],
      ['issuer_rate_limited', 'rate_limited'],
      ['old_key_in_use', 'cannot_revoke_old'],
      ['old_key_still_active', 'old_key_active_after_revoke'],
      ['verify_failed', 'app_401_after_rotation'],
      ['deploy_failed', 'rollout_incomplete'],
    ])('points %s at the %s row', (code, hint) => {
      expect(failureOf(step, new RotatorError(code, 'x')).hint).toBe(hint);
    });

    it('leaves the hint out for a code without a default', () => {
      expect(failureOf(step, new RotatorError('store_unavailable', 'x'))).not.toHaveProperty('hint');
    });
  });

  describe('when something other than a RotatorError was thrown', () => {
    it('records it as internal without repeating its message', () => {
      const f = failureOf(step, new Error('connect ECONNREFUSED token=abc123'));
      expect(f).toEqual({
        step: 'verify',
        code: 'internal',
        message: 'internal error (details in the worker log)',
      });
    });
  });
});
