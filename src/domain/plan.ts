import { consumerDrift, consumerWhere } from './consumer-drift';
import { databaseNotices, databaseTouches } from './database-plan';
import { issuerPolicy, type Consumer, type CredentialSpec } from './credential';
import type { AgeAssessment } from './policy';
import { policyNotes } from './issuer-notes';
import type { DiscoveredConsumer } from './ports';
import type { ForwardStepName } from './run';
import { SCHEDULED_STEPS } from './run';
import { STEP_TITLES } from './step-titles';

export type ConsumerAction = 'restart' | 'wait-cache' | 'next-job';

export interface PlannedConsumer {
  name: string;
  reload: Consumer['reload'];
  action: ConsumerAction;
  /** Where it runs, e.g. payments/web-app. */
  where?: string;
  /** Whether the cluster shows it referencing the secret (undefined: not checked). */
  foundInCluster?: boolean;
  healthCheck: boolean;
}

export interface PlanStep {
  name: ForwardStepName;
  title: string;
  touches: string[];
}

export interface Plan {
  credential: string;
  type: CredentialSpec['type'];
  risk: CredentialSpec['risk'];
  issuer: string;
  store: string;
  age: AgeAssessment;
  consumers: PlannedConsumer[];
  /** Deployments referencing the secret that the catalog does not declare. */
  undeclared: string[];
  /** Declared consumers the cluster does not show referencing the secret. */
  missing: string[];
  /** Catalog vs store metadata disagreements. */
  drift: string[];
  /** Why the summary cannot be posted in the credential's channel, found before anything rotates. */
  channelProblem?: string;
  steps: PlanStep[];
  approvers: string[];
  /**
   * What the approver must know first: a maintenance window, a notice to give, how the old login
   * ends, what the issuer makes the run do or wait for (quiet window, grace period, key slots).
   */
  notices: string[];
}

export function consumerAction(c: Consumer): ConsumerAction {
  if (c.reload === 'dynamic') return 'wait-cache';
  if (c.reload === 'scheduled') return 'next-job';
  return 'restart';
}

export interface PlanInput {
  spec: CredentialSpec;
  age: AgeAssessment;
  discovered?: DiscoveredConsumer[];
  storedConsumers?: string[];
  storedIssuer?: string;
  channelProblem?: string;
  /** Issuer notes found before the plan (key slots); the issuer's waits are added from the catalog. */
  issuerNotes?: string[];
}

/** The ordered steps of a scheduled rotation and what each touches: for previews and dry runs. */
export function buildPlan({
  spec,
  age,
  discovered,
  storedConsumers,
  storedIssuer,
  channelProblem,
  issuerNotes = [],
}: PlanInput): Plan {
  const drift = discovered ? consumerDrift(spec, discovered) : undefined;
  const consumers: PlannedConsumer[] = spec.consumers.map((c) => {
    const w = consumerWhere(c);
    return {
      name: c.name,
      reload: c.reload,
      action: consumerAction(c),
      ...(w ? { where: w } : {}),
      ...(drift && w ? { foundInCluster: drift.found.has(w) } : {}),
      healthCheck: c.health !== undefined,
    };
  });
  const undeclared = drift?.undeclared ?? [];
  const missing = drift?.missing ?? [];

  const metadataDrift: string[] = [];
  if (storedConsumers) {
    const cat = new Set(spec.consumers.map((c) => c.name));
    const st = new Set(storedConsumers);
    for (const n of cat)
      if (!st.has(n)) metadataDrift.push(`${n} is in the catalog but not in the store's metadata`);
    for (const n of st)
      if (!cat.has(n)) metadataDrift.push(`${n} is in the store's metadata but not in the catalog`);
  }
  if (storedIssuer && storedIssuer !== spec.issuer.name) {
    metadataDrift.push(`issuer is ${spec.issuer.name} in the catalog but ${storedIssuer} in the store`);
  }

  const restarts = consumers.filter((c) => c.action === 'restart').map((c) => c.name);
  const syncs = spec.consumers
    .filter((c) => c.kubernetes?.externalSecret)
    .map((c) => c.kubernetes!.externalSecret!);
  const checked = consumers.filter((c) => c.healthCheck).map((c) => c.name);
  const touches: Record<(typeof SCHEDULED_STEPS)[number], string[]> = {
    'check-dependencies': ['cluster deployments referencing the secret', 'store metadata'],
    generate: databaseTouches(spec)?.generate ?? [`new key at ${spec.issuer.name}`],
    'store-new': [`secret/${spec.store} (new version, previous kept)`],
    deploy: [
      ...[...new Set(syncs)].map((s) => `force-sync ExternalSecret ${s}`),
      ...restarts.map((n) => `restart ${n}`),
      ...consumers.filter((c) => c.action === 'wait-cache').map((c) => `wait for ${c.name} cache`),
      ...consumers.filter((c) => c.action === 'next-job').map((c) => `${c.name}: next job uses new`),
    ],
    verify: [
      ...checked.map((n) => `health ${n}`),
      ...spec.consumers
        .filter((c) => c.health?.logs)
        .map((c) => `logs of ${c.name}: no authentication errors`),
      `new key active at ${spec.issuer.name}`,
    ],
    'revoke-old':
      databaseTouches(spec)?.revoke ??
      (issuerPolicy(spec.issuer).deleteAfterMs !== undefined
        ? [
            `deactivate old key at ${spec.issuer.name} (after checking its last use)`,
            'old key rejected',
            'its deletion scheduled after the grace period',
          ]
        : [`old key at ${spec.issuer.name} (after checking its last use)`, 'old key rejected']),
    record: [`secret/${spec.store} previous_key cleared, rotation_verified_at`, 'audit trail'],
    notify: [spec.channel ? `#${spec.channel}` : 'security channel', spec.contact],
  };
  return {
    credential: spec.name,
    type: spec.type,
    risk: spec.risk,
    issuer: spec.issuer.name,
    store: spec.store,
    age,
    consumers,
    undeclared,
    missing,
    drift: metadataDrift,
    ...(channelProblem ? { channelProblem } : {}),
    steps: SCHEDULED_STEPS.map((name) => ({ name, title: STEP_TITLES[name], touches: touches[name] })),
    approvers: spec.approvers,
    notices: [...databaseNotices(spec), ...policyNotes(spec), ...issuerNotes],
  };
}
