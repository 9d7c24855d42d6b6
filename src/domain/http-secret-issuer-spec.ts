import type { Secret } from './secret';

/**
 * A provider whose admin API creates a client secret or token and deletes one by id (an identity
 * provider's OAuth clients, a platform's service-account tokens). Paths may hold `{var}`
 * placeholders: the catalog's `vars`, `{id}` (the secret's id) and `{label}` (the run's label).
 * Field names are dot paths into the JSON answer, e.g. `secret` or `data.value`.
 */
export interface HttpSecretIssuerSpec {
  kind: 'http_secret';
  name: string;
  baseUrl: string;
  /** The admin token itself, resolved from the environment by config; never logged. */
  adminToken: Secret;
  vars: Record<string, string>;
  create: {
    method: 'POST' | 'PUT';
    path: string;
    /** JSON body sent; string values may hold placeholders (the label goes here). */
    body: Record<string, unknown>;
    idField: string;
    valueField: string;
  };
  list: {
    path: string;
    /** Where the array is in the answer; '' when the answer is the array itself. */
    itemsField: string;
    idField: string;
    labelField: string;
    createdField?: string;
    statusField?: string;
    lastUsedField?: string;
  };
  revoke: { method: 'DELETE' | 'POST'; path: string };
  /** How to prove a value works: an OAuth client_credentials grant, or a call with it as bearer. */
  verify:
    | { kind: 'client_credentials'; path: string; clientId: string; scope?: string }
    | { kind: 'bearer'; method: 'GET' | 'POST'; path: string };
  maxConcurrent?: number;
}
