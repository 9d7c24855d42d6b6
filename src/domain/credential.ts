import { RotatorError } from './errors';
import type { HttpSecretIssuerSpec } from './http-secret-issuer-spec';
import type { ManualIssuerSpec } from './manual-issuer-spec';

export type { HttpSecretIssuerSpec } from './http-secret-issuer-spec';
export type { ManualIssuerSpec } from './manual-issuer-spec';

export const CREDENTIAL_TYPES = [
  'api_key',
  'oauth_client_secret',
  'service_account_token',
  'database',
  'webhook_secret',
] as const;
export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export const RISKS = ['standard', 'high'] as const;
export type Risk = (typeof RISKS)[number];

/** How a consumer picks up a new value (the runbook's dependency map). */
export const RELOAD_MODES = ['startup', 'dynamic', 'scheduled'] as const;
export type ReloadMode = (typeof RELOAD_MODES)[number];

export interface HealthCheck {
  url: string;
  /** Optional JSON field that must equal a value, e.g. payment_gateway = connected. */
  expect?: { field: string; equals: string | number | boolean };
  /**
   * The runbook's check of a batch processor: no authentication error in its pods' logs since the
   * new value was deployed (`kubectl logs deployment/<name> --tail=<tailLines>`).
   */
  logs?: LogCheck;
}

export interface LogCheck {
  /** A line matching this (case-insensitive regular expression) is an authentication error. */
  errorPattern: string;
  /** How many of each pod's latest lines are read. */
  tailLines: number;
}

export const DEFAULT_LOG_ERROR_PATTERN = 'authentication (failed|error)|unauthori[sz]ed|\\b401\\b';

export interface KubernetesRef {
  namespace: string;
  deployment: string;
  externalSecret?: string;
}

export interface Consumer {
  name: string;
  reload: ReloadMode;
  kubernetes?: KubernetesRef;
  health?: HealthCheck;
  /** For `dynamic` consumers: how long their cache keeps the old value. */
  cacheTtlSeconds?: number;
}

export interface RestApiKeyIssuerSpec {
  kind: 'rest_api_key';
  /** Display name the runbook uses, e.g. payment-provider.example.com. */
  name: string;
  baseUrl: string;
  /** The admin token itself, resolved from the environment by config; never logged. */
  adminToken: import('./secret').Secret;
  permissions: string[];
  keyName: string;
  /** Calls in flight at once to this issuer, shared by every replica; unlimited when absent. */
  maxConcurrent?: number;
}

export type IssuerSpec = RestApiKeyIssuerSpec | HttpSecretIssuerSpec | ManualIssuerSpec;

export interface CredentialSpec {
  name: string;
  type: CredentialType;
  risk: Risk;
  /** Path below the KV mount, e.g. api-credentials/payment-gateway-api. */
  store: string;
  /** Name of the Kubernetes Secret consumers reference (for dependency discovery). */
  kubernetesSecret?: string;
  issuer: IssuerSpec;
  consumers: Consumer[];
  contact: string;
  channel?: string;
  approvers: string[];
  /** Addresses the declared consumers call the issuer from; a use from elsewhere is suspicious. */
  knownAddresses?: string[];
}

export const CREDENTIAL_NAME = /^[a-z0-9][a-z0-9-]{1,62}$/;

/** Validates a user-typed credential name before any I/O touches it. */
export function parseCredentialName(input: string): string {
  const name = input.trim();
  if (!CREDENTIAL_NAME.test(name)) {
    // Non-ASCII is shown escaped so a look-alike (Cyrillic а, zero-width, RTL override) is visible.
    const shown = JSON.stringify(name.slice(0, 70)).replace(
      /[^\x20-\x7e]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    );
    throw new RotatorError(
      'invalid_name',
      `${shown} is not a credential name: use 2-63 characters, lower-case a-z, digits and '-', starting with a letter or digit`,
    );
  }
  return name;
}
