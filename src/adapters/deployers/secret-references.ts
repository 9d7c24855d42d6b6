import type { V1Deployment } from '@kubernetes/client-node';
import type { DiscoveredConsumer } from '../../domain/ports';

export type SecretVia = DiscoveredConsumer['via'][number];

/**
 * How a Deployment's pod template uses the Secret `secretName`: env[].valueFrom.secretKeyRef,
 * envFrom[].secretRef, volumes[].secret (or a projected volume's secret source). Init containers
 * count: they read the value too. [] when it does not use it.
 */
export function secretReferences(deployment: V1Deployment, secretName: string): SecretVia[] {
  const pod = deployment.spec?.template?.spec;
  if (!pod) return [];
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  const found = new Set<SecretVia>();
  if (containers.some((c) => c.env?.some((e) => e.valueFrom?.secretKeyRef?.name === secretName))) {
    found.add('env');
  }
  if (containers.some((c) => c.envFrom?.some((e) => e.secretRef?.name === secretName))) found.add('envFrom');
  const volumes = pod.volumes ?? [];
  if (
    volumes.some(
      (v) =>
        v.secret?.secretName === secretName ||
        v.projected?.sources?.some((s) => s.secret?.name === secretName),
    )
  ) {
    found.add('volume');
  }
  return (['env', 'envFrom', 'volume'] as const).filter((via) => found.has(via));
}
