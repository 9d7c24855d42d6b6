import { ApiException } from '@kubernetes/client-node';
import { retryAfterOf } from '../../../src/adapters/retry';
import { toDeployerError } from '../../../src/adapters/deployers/kube-error';

const status = (code: number, reason: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code });

describe('toDeployerError', () => {
  describe('when the API server answers 429 with Retry-After', () => {
    const err = toDeployerError(
      new ApiException(429, 'Too Many Requests', status(429, 'TooManyRequests'), { 'retry-after': '7' }),
      'restart',
      'deployment payments/web-app',
    );

    it('is transient and carries the delay where the engine reads it', () => {
      expect(err).toMatchObject({ code: 'deploy_unavailable', transient: true });
      expect(err.context.retryAfterMs).toBe(7000);
      expect(retryAfterOf(err)).toBe(7000);
    });
  });

  describe('when a 503 has no Retry-After', () => {
    it('is transient with no delay of its own', () => {
      const err = toDeployerError(
        new ApiException(503, 'x', status(503, 'ServiceUnavailable'), {}),
        'get',
        'x',
      );
      expect(err.transient).toBe(true);
      expect(retryAfterOf(err)).toBeUndefined();
    });
  });

  describe('when the object does not exist', () => {
    it('is permanent and names the Status reason, never its message', () => {
      const body = JSON.stringify({
        kind: 'Status',
        reason: 'NotFound',
        message: 'secret value xyz',
        code: 404,
      });
      const err = toDeployerError(new ApiException(404, 'x', body, {}), 'get', 'deployment p/w');
      expect(err).toMatchObject({ code: 'deploy_failed', transient: false });
      expect(err.message).toContain('NotFound');
      expect(err.message).not.toContain('xyz');
    });
  });
});
