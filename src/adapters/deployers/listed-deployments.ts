import type { V1Deployment } from '@kubernetes/client-node';
import type { KubernetesRef } from '../../domain/credential';

export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';

/** How long what discovery listed may stand in for a read before a restart (a run's first minute). */
const LISTED_TTL_MS = 60_000;

/**
 * How long a listed selector stands in for reading the deployment: the run's verification, not the
 * next run's (a deployment deleted and made anew may select other pods).
 */
const SELECTOR_TTL_MS = 3_600_000;

/** Entries kept at most; past it, the stale ones go (or all, for selectors). */
const MAX_ENTRIES = 1_000;

/** A deployment as discovery listed it: what restart needs to patch it without reading it first. */
export interface Listed {
  resourceVersion: string;
  paused: boolean;
  restartedAt: string | undefined;
}

export const restartedAtOf = (d: V1Deployment): string | undefined =>
  d.spec?.template?.metadata?.annotations?.[RESTARTED_AT];

const keyOf = (ref: KubernetesRef) => `${ref.namespace}/${ref.deployment}`;

/**
 * What a run's discovery learned of its consumers' deployments, so the steps after it need not read
 * them again: the resourceVersion a restart patches on as its precondition (the server refuses the
 * patch if anything changed since), and the pod selector the log check lists pods by (a
 * Deployment's selector cannot change).
 */
export class ListedDeployments {
  private readonly listed = new Map<string, Listed & { at: number }>();
  private readonly selectors = new Map<string, { selector: string; at: number }>();

  remember(d: V1Deployment): void {
    const resourceVersion = d.metadata?.resourceVersion;
    const key = keyOf({ namespace: d.metadata?.namespace ?? '', deployment: d.metadata?.name ?? '' });
    const now = Date.now();
    const selector = d.spec?.selector;
    const labels = Object.entries(selector?.matchLabels ?? {});
    if (this.selectors.size >= MAX_ENTRIES) this.selectors.clear();
    if (labels.length > 0 && !selector?.matchExpressions?.length)
      this.selectors.set(key, { selector: labels.map(([k, v]) => `${k}=${v}`).join(','), at: now });
    if (!resourceVersion) return;
    if (this.listed.size >= MAX_ENTRIES) {
      for (const [k, v] of this.listed) if (now - v.at >= LISTED_TTL_MS) this.listed.delete(k);
    }
    this.listed.set(key, {
      resourceVersion,
      paused: d.spec?.paused === true,
      restartedAt: restartedAtOf(d),
      at: now,
    });
  }

  /** The listing of a deployment, once: a restart uses it for its one patch, later ones read. */
  take(ref: KubernetesRef): Listed | undefined {
    const found = this.listed.get(keyOf(ref));
    this.listed.delete(keyOf(ref));
    return found && Date.now() - found.at < LISTED_TTL_MS ? found : undefined;
  }

  /** The label selector (matchLabels) of the deployment's pods, as listed. */
  selectorOf(ref: KubernetesRef): string | undefined {
    const known = this.selectors.get(keyOf(ref));
    return known && Date.now() - known.at < SELECTOR_TTL_MS ? known.selector : undefined;
  }
}
