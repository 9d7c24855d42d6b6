import type { Consumer, CredentialSpec } from './credential';
import type { DiscoveredConsumer, DiscoveryScope } from './ports';

/** Where a consumer runs in the cluster, e.g. payments/web-app; undefined outside Kubernetes. */
export const consumerWhere = (c: Consumer): string | undefined =>
  c.kubernetes ? `${c.kubernetes.namespace}/${c.kubernetes.deployment}` : undefined;

export interface ConsumerDrift {
  /** Deployments referencing the secret in the credential's namespaces, as namespace/deployment. */
  found: Set<string>;
  /** Found in the cluster but not declared in the catalog, sorted: they would lose access at revocation. */
  undeclared: string[];
  /** Names of declared Kubernetes consumers the cluster does not show referencing the secret. */
  missing: string[];
}

/**
 * The catalog's dependency map against what the cluster shows. Only the namespaces the credential
 * is deployed to count: a same-named secret elsewhere (staging) is another credential.
 */
export function consumerDrift(
  spec: Pick<CredentialSpec, 'consumers'>,
  discovered: DiscoveredConsumer[],
): ConsumerDrift {
  const declared = new Set(spec.consumers.map(consumerWhere).filter((w) => w !== undefined));
  const namespaces = new Set(spec.consumers.map((c) => c.kubernetes?.namespace));
  const found = new Set(
    discovered.filter((d) => namespaces.has(d.namespace)).map((d) => `${d.namespace}/${d.deployment}`),
  );
  const undeclared = [...found].filter((w) => !declared.has(w)).sort();
  const missing = spec.consumers
    .filter((c) => {
      const w = consumerWhere(c);
      return w !== undefined && !found.has(w);
    })
    .map((c) => c.name);
  return { found, undeclared, missing };
}

/**
 * Where discovery must look for a credential: the namespaces its Kubernetes consumers run in (the
 * only ones consumerDrift counts), narrowed by the catalog's label selector. Undefined when no
 * consumer runs in Kubernetes: there is nothing to compare, so nothing to list.
 */
export function discoveryScope(
  spec: Pick<CredentialSpec, 'consumers' | 'discoverySelector'>,
): DiscoveryScope | undefined {
  const namespaces = [
    ...new Set(spec.consumers.flatMap((c) => (c.kubernetes ? [c.kubernetes.namespace] : []))),
  ];
  if (namespaces.length === 0) return undefined;
  return {
    namespaces: namespaces.sort(),
    ...(spec.discoverySelector ? { labelSelector: spec.discoverySelector } : {}),
  };
}
