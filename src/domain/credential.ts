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

export type IssuerSpec =
  RestApiKeyIssuerSpec | DatabaseIssuerSpec | AwsIamIssuerSpec | HttpSecretIssuerSpec | ManualIssuerSpec;

/** A generic REST API-key provider (the runbook's /v1/api-keys). */
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

/** How a database credential rotates (the catalog chooses per credential). */
export const DATABASE_STRATEGIES = ['single_user', 'alternating_users'] as const;
export type DatabaseStrategy = (typeof DATABASE_STRATEGIES)[number];

/**
 * A PostgreSQL or MariaDB login rotated by the rotator. `single_user` changes one user's password
 * (consumers restart inside a maintenance window); `alternating_users` resets the idle one of two
 * users and switches consumers to it, so the old login works until every consumer has moved.
 */
export interface DatabaseIssuerSpec {
  kind: 'postgres' | 'mariadb';
  /** Display name, e.g. orders-db.internal. */
  name: string;
  host: string;
  port: number;
  /** The database logins connect to (a harmless SELECT 1 runs there); none for MariaDB by default. */
  database?: string;
  strategy: DatabaseStrategy;
  /** One user (single_user) or the two that take turns (alternating_users). */
  users: string[];
  /** MariaDB only: the host part of each account ('user'@'host'). */
  accountHost: string;
  /** The admin login that changes passwords; its password comes from the environment or the store. */
  admin: { user: string; password: DatabaseAdminPassword };
  /**
   * Alternating users: how long revocation waits for connections still open on the old login to
   * close (pools draining) before it refuses; DEFAULT_DRAIN_TIMEOUT_MS when absent.
   */
  drainTimeoutMs?: number;
  /** Calls in flight at once to this issuer, shared by every replica; unlimited when absent. */
  maxConcurrent?: number;
}

/** Where the admin's password is read when it is needed: never from the catalog itself. */
export type DatabaseAdminPassword =
  { from: 'env'; value: import('./secret').Secret } | { from: 'store'; path: string };

/**
 * One IAM user's access keys. AWS's own procedure: create the second key, deploy, verify,
 * deactivate the old key, delete it after a grace period.
 */
export interface AwsIamIssuerSpec {
  kind: 'aws_iam';
  name: string;
  userName: string;
  region: string;
  /** IAM's endpoint when not AWS's own (the sandbox double, a proxy). */
  endpoint?: string;
  /** The admin's access key id and secret, resolved from the environment by config; never logged. */
  accessKeyId: string;
  secretAccessKey: import('./secret').Secret;
  /** How long the old key must show no use before it is deactivated (GetAccessKeyLastUsed lags). */
  quietWindowMs: number;
  /** How long a deactivated old key is kept (and can be reactivated) before it is deleted. */
  deleteAfterMs: number;
  /** How long a new key may be refused (IAM is eventually consistent) before verification fails. */
  newKeyConsistencyMs: number;
  /** A user with two keys: may the run delete an inactive key that no run of ours created? */
  deleteForeignInactiveKey: boolean;
  maxConcurrent?: number;
}

/** Waits and key-slot rules an issuer sets for itself; undefined means the engine's defaults. */
export interface IssuerPolicy {
  /** A full issuer may make room by deleting an inactive key that no run of ours created. */
  deleteForeignInactiveKey?: boolean;
  quietWindowMs?: number;
  /** Revocation deactivates the old key and deletes it this long after. */
  deleteAfterMs?: number;
  newKeyConsistencyMs?: number;
  /** How long revocation waits for open connections on the old login to close before refusing. */
  drainTimeoutMs?: number;
}

/** The runbook's pool drain: 30 minutes for connections on an old database login to close. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 30 * 60_000;

export function issuerPolicy(issuer: IssuerSpec): IssuerPolicy {
  if (issuer.kind === 'postgres' || issuer.kind === 'mariadb')
    return { drainTimeoutMs: issuer.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS };
  if (issuer.kind !== 'aws_iam') return {};
  return {
    quietWindowMs: issuer.quietWindowMs,
    deleteAfterMs: issuer.deleteAfterMs,
    newKeyConsistencyMs: issuer.newKeyConsistencyMs,
    deleteForeignInactiveKey: issuer.deleteForeignInactiveKey,
  };
}

export interface CredentialSpec {
  name: string;
  type: CredentialType;
  risk: Risk;
  /** Path below the KV mount, e.g. api-credentials/payment-gateway-api. */
  store: string;
  /** Name of the Kubernetes Secret consumers reference (for dependency discovery). */
  kubernetesSecret?: string;
  /** Label selector every deployment that may use the secret carries: discovery lists only those. */
  discoverySelector?: string;
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
