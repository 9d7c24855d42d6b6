import type { V1Deployment, V1DeploymentCondition } from '@kubernetes/client-node';
import { rolloutStatus } from '../../../src/adapters/deployers/rollout-status';

const progressing = (reason: string, status = 'True'): V1DeploymentCondition => ({
  type: 'Progressing',
  status,
  reason,
});

/** A deployment that has finished rolling out 3 replicas; each case breaks one thing. */
function deployment(overrides: {
  generation?: number;
  observedGeneration?: number;
  replicas?: number | undefined;
  status?: Partial<NonNullable<V1Deployment['status']>>;
}): V1Deployment {
  return {
    metadata: { name: 'web-app', namespace: 'prod', generation: overrides.generation ?? 2 },
    spec: {
      replicas: 'replicas' in overrides ? overrides.replicas : 3,
      selector: {},
      template: {},
    },
    status: {
      observedGeneration: overrides.observedGeneration ?? 2,
      replicas: 3,
      updatedReplicas: 3,
      availableReplicas: 3,
      conditions: [progressing('NewReplicaSetAvailable')],
      ...overrides.status,
    },
  };
}

describe('rolloutStatus', () => {
  describe('when the controller has not observed the latest generation', () => {
    it('is waiting, even if the previous rollout had failed', () => {
      const d = deployment({
        generation: 3,
        observedGeneration: 2,
        status: { conditions: [progressing('ProgressDeadlineExceeded', 'False')] },
      });
      expect(rolloutStatus(d)).toEqual({ state: 'waiting', reason: expect.stringContaining('spec update') });
    });
  });

  describe('when the Progressing condition says ProgressDeadlineExceeded', () => {
    it('has failed, even though replicas are still missing', () => {
      const d = deployment({
        status: { updatedReplicas: 1, conditions: [progressing('ProgressDeadlineExceeded', 'False')] },
      });
      expect(rolloutStatus(d)).toEqual({
        state: 'failed',
        reason: expect.stringContaining('progress deadline'),
      });
    });
  });

  describe('when fewer replicas are updated than the spec wants', () => {
    it('is waiting for new replicas', () => {
      const d = deployment({ status: { updatedReplicas: 1, replicas: 4 } });
      expect(rolloutStatus(d)).toEqual({
        state: 'waiting',
        reason: expect.stringContaining('1 out of 3 new replicas'),
      });
    });

    it('skips that rule when the spec has no replica count', () => {
      const d = deployment({
        replicas: undefined,
        status: { updatedReplicas: 1, replicas: 1, availableReplicas: 1 },
      });
      expect(rolloutStatus(d)).toEqual({ state: 'done' });
    });
  });

  describe('when old replicas are still running beside the updated ones', () => {
    it('is waiting for them to terminate', () => {
      const d = deployment({ status: { replicas: 5, updatedReplicas: 3 } });
      expect(rolloutStatus(d)).toEqual({
        state: 'waiting',
        reason: expect.stringContaining('2 old replicas'),
      });
    });
  });

  describe('when some updated replicas are not available yet', () => {
    it('is waiting for availability', () => {
      const d = deployment({ status: { availableReplicas: 2 } });
      expect(rolloutStatus(d)).toEqual({
        state: 'waiting',
        reason: expect.stringContaining('2 of 3 updated'),
      });
    });
  });

  describe('when every rule passes', () => {
    it('is done', () => {
      expect(rolloutStatus(deployment({}))).toEqual({ state: 'done' });
    });

    it('is done for a deployment without status fields beyond the observed generation', () => {
      const d: V1Deployment = { metadata: { name: 'x', generation: 1 }, status: { observedGeneration: 1 } };
      expect(rolloutStatus(d)).toEqual({ state: 'done' });
    });
  });
});
