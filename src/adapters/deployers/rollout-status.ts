import type { V1Deployment } from '@kubernetes/client-node';
import type { RolloutState } from '../../domain/ports';

const waiting = (reason: string): RolloutState => ({ state: 'waiting', reason });

/**
 * One look at a Deployment, judged like `kubectl rollout status` (kubectl's DeploymentStatusViewer):
 * the rules apply in this order and the first that matches decides.
 */
export function rolloutStatus(deployment: V1Deployment): RolloutState {
  const name = deployment.metadata?.name ?? '';
  const status = deployment.status;
  if ((deployment.metadata?.generation ?? 0) > (status?.observedGeneration ?? 0)) {
    return waiting(`waiting for deployment "${name}" spec update to be observed`);
  }
  const progressing = status?.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    return { state: 'failed', reason: `deployment "${name}" exceeded its progress deadline` };
  }
  const wanted = deployment.spec?.replicas;
  const updated = status?.updatedReplicas ?? 0;
  if (wanted !== undefined && updated < wanted) {
    return waiting(`${updated} out of ${wanted} new replicas of "${name}" have been updated`);
  }
  const replicas = status?.replicas ?? 0;
  if (replicas > updated) {
    return waiting(`${replicas - updated} old replicas of "${name}" are pending termination`);
  }
  const available = status?.availableReplicas ?? 0;
  if (available < updated) {
    return waiting(`${available} of ${updated} updated replicas of "${name}" are available`);
  }
  return { state: 'done' };
}
