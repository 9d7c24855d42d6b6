import { KubeConfig } from '@kubernetes/client-node';
import { RotatorError } from '../../domain/errors';

/** The cluster connection: a kubeconfig file when a path is given, else the pod's service account. */
export function kubeConfigFrom(opts: { kubeconfigPath?: string } = {}): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfigPath) kc.loadFromFile(opts.kubeconfigPath);
    else kc.loadFromCluster();
  } catch (e) {
    const source = opts.kubeconfigPath
      ? `kubeconfig ${opts.kubeconfigPath}`
      : 'the in-cluster service account';
    throw new RotatorError('config_invalid', `cannot load Kubernetes credentials from ${source}`, {
      context: { cause: e instanceof Error ? e.name : 'unknown' },
    });
  }
  return kc;
}
