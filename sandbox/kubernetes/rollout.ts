import { isObject, type JsonObject } from './patch';
import { condition } from './objects';

/** What the deployment controller writes to status once it has acted on the latest generation. */

function parts(d: JsonObject): { generation: number; replicas: number; name: string; status: JsonObject } {
  const meta = isObject(d.metadata) ? d.metadata : {};
  const spec = isObject(d.spec) ? d.spec : {};
  const status = isObject(d.status) ? d.status : {};
  d.status = status;
  return {
    generation: Number(meta.generation ?? 1),
    replicas: typeof spec.replicas === 'number' ? spec.replicas : 1,
    name: String(meta.name),
    status,
  };
}

export function completeRollout(d: JsonObject): void {
  const { generation, replicas, name, status } = parts(d);
  Object.assign(status, {
    observedGeneration: generation,
    replicas,
    updatedReplicas: replicas,
    readyReplicas: replicas,
    availableReplicas: replicas,
    unavailableReplicas: 0,
    conditions: [
      condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      condition(
        'Progressing',
        'True',
        'NewReplicaSetAvailable',
        `ReplicaSet "${name}-${generation}" has successfully progressed.`,
      ),
    ],
  });
}

/** The new ReplicaSet's first pod never becomes available; the old pods keep serving. */
export function failRollout(d: JsonObject): void {
  const { generation, replicas, name, status } = parts(d);
  Object.assign(status, {
    observedGeneration: generation,
    replicas: replicas + 1,
    updatedReplicas: 1,
    readyReplicas: replicas,
    availableReplicas: replicas,
    unavailableReplicas: 1,
    conditions: [
      condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      condition(
        'Progressing',
        'False',
        'ProgressDeadlineExceeded',
        `ReplicaSet "${name}-${generation}" has timed out progressing.`,
      ),
    ],
  });
}

/** A paused Deployment: the generation is observed, but no new ReplicaSet is created. */
export function pauseRollout(d: JsonObject, templateChanged: boolean): void {
  const { generation, replicas, status } = parts(d);
  Object.assign(status, {
    observedGeneration: generation,
    replicas,
    updatedReplicas: templateChanged ? 0 : replicas,
    conditions: [
      condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      condition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'),
    ],
  });
}

/** Mid-rollout: `updated` of the new ReplicaSet's pods are up, the rest are still old ones. */
export function progressRollout(d: JsonObject, updated: number): void {
  const { generation, replicas, name, status } = parts(d);
  Object.assign(status, {
    observedGeneration: generation,
    replicas,
    updatedReplicas: updated,
    readyReplicas: replicas,
    availableReplicas: replicas,
    unavailableReplicas: 0,
    conditions: [
      condition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'),
      condition(
        'Progressing',
        'True',
        'ReplicaSetUpdated',
        `ReplicaSet "${name}-${generation}" is progressing.`,
      ),
    ],
  });
}
