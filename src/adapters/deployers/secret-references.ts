import type { V1Deployment } from '@kubernetes/client-node';
import type { DiscoveredConsumer } from '../../domain/ports';

export type SecretVia = DiscoveredConsumer['via'][number];

const ORDER: readonly SecretVia[] = ['env', 'envFrom', 'volume'];

/**
 * Every Secret a Deployment's pod template uses, and how: env[].valueFrom.secretKeyRef,
 * envFrom[].secretRef, volumes[].secret (or a projected volume's secret source). Init containers
 * count: they read the value too.
 */
export function secretUses(deployment: V1Deployment): Map<string, SecretVia[]> {
  const pod = deployment.spec?.template?.spec;
  const found = new Map<string, Set<SecretVia>>();
  const add = (name: string | undefined, via: SecretVia) => {
    if (!name) return;
    const set = found.get(name) ?? new Set<SecretVia>();
    set.add(via);
    found.set(name, set);
  };
  for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
    for (const e of c.env ?? []) add(e.valueFrom?.secretKeyRef?.name, 'env');
    for (const e of c.envFrom ?? []) add(e.secretRef?.name, 'envFrom');
  }
  for (const v of pod?.volumes ?? []) {
    add(v.secret?.secretName, 'volume');
    for (const s of v.projected?.sources ?? []) add(s.secret?.name, 'volume');
  }
  return new Map([...found].map(([name, vias]) => [name, ORDER.filter((via) => vias.has(via))]));
}

/**
 * What `secretUses` found per Deployment object. The rollout watch's objects are never changed in
 * place (a change is a new object), and discovery looks at every deployment of the namespace for
 * every run: each is taken apart once, not once per run.
 */
const usesOf = new WeakMap<V1Deployment, Map<string, SecretVia[]>>();

/** How a Deployment's pod template uses the Secret `secretName`; [] when it does not. */
export function secretReferences(deployment: V1Deployment, secretName: string): SecretVia[] {
  let uses = usesOf.get(deployment);
  if (!uses) {
    uses = secretUses(deployment);
    usesOf.set(deployment, uses);
  }
  return [...(uses.get(secretName) ?? [])];
}
