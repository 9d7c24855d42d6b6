import { DEPLOYMENT_SCHEMA, META_ONLY_SCHEMA, POD_SCHEMA, type MergeSchema } from './strategic-merge';

export const JSON_PATCH = 'application/json-patch+json';
export const MERGE_PATCH = 'application/merge-patch+json';
export const STRATEGIC = 'application/strategic-merge-patch+json';
export const APPLY_YAML = 'application/apply-patch+yaml';
export const APPLY_CBOR = 'application/apply-patch+cbor';

/** One resource the double serves, with what discovery says about it. */
export interface ResourceDef {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  group: string;
  /** Served versions, preferred first. */
  versions: string[];
  shortNames: string[];
  categories: string[];
  verbs: string[];
  /** Built-in types accept strategic merge patch; custom resources answer 415. */
  builtIn: boolean;
  patchTypes: readonly string[];
  schema: MergeSchema;
  subresources: string[];
}

const BUILT_IN_PATCH = [JSON_PATCH, MERGE_PATCH, APPLY_YAML, STRATEGIC, APPLY_CBOR] as const;
const CR_PATCH = [JSON_PATCH, MERGE_PATCH, APPLY_YAML] as const;

export const RESOURCES: Record<string, ResourceDef> = {
  deployments: {
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    group: 'apps',
    versions: ['v1'],
    shortNames: ['deploy'],
    categories: ['all'],
    verbs: ['get', 'list', 'patch', 'update', 'watch'],
    builtIn: true,
    patchTypes: BUILT_IN_PATCH,
    schema: DEPLOYMENT_SCHEMA,
    subresources: [],
  },
  pods: {
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    listKind: 'PodList',
    group: '',
    versions: ['v1'],
    shortNames: ['po'],
    categories: ['all'],
    verbs: ['delete', 'get', 'list', 'watch'],
    builtIn: true,
    patchTypes: BUILT_IN_PATCH,
    schema: POD_SCHEMA,
    subresources: ['log'],
  },
  secrets: {
    plural: 'secrets',
    singular: 'secret',
    kind: 'Secret',
    listKind: 'SecretList',
    group: '',
    versions: ['v1'],
    shortNames: [],
    categories: [],
    verbs: ['get', 'list', 'watch'],
    builtIn: true,
    patchTypes: BUILT_IN_PATCH,
    schema: META_ONLY_SCHEMA,
    subresources: [],
  },
  externalsecrets: {
    plural: 'externalsecrets',
    singular: 'externalsecret',
    kind: 'ExternalSecret',
    listKind: 'ExternalSecretList',
    group: 'external-secrets.io',
    // The bot uses v1; the runbook's manifests (and older clusters) still say v1beta1.
    versions: ['v1', 'v1beta1'],
    shortNames: ['es'],
    categories: ['external-secrets'],
    verbs: ['get', 'list', 'patch', 'update', 'watch'],
    builtIn: false,
    patchTypes: CR_PATCH,
    schema: META_ONLY_SCHEMA,
    subresources: ['status'],
  },
};

export const groupVersion = (group: string, version: string) => (group ? `${group}/${version}` : version);

/** The resources of one group/version, for its APIResourceList. */
export function resourcesOf(group: string, version: string): ResourceDef[] {
  return Object.values(RESOURCES).filter((r) => r.group === group && r.versions.includes(version));
}
