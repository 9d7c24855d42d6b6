import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SLACK_ID, SLACK_ID_DESCRIPTION, type AccessPolicy } from './domain/access';
import {
  CREDENTIAL_NAME,
  CREDENTIAL_TYPES,
  DEFAULT_LOG_ERROR_PATTERN,
  RELOAD_MODES,
  RISKS,
  type Consumer,
  type CredentialSpec,
  type CredentialType,
  type IssuerSpec,
  type ReloadMode,
} from './domain/credential';
import { awsIamIssuerSchema, buildAwsIamIssuer } from './catalog-aws-iam';
import {
  buildHttpSecretIssuer,
  buildManualIssuer,
  httpSecretIssuerSchema,
  manualIssuerSchema,
} from './catalog-issuers';
import { RotatorError } from './domain/errors';
import { Secret } from './domain/secret';
import { buildDatabaseIssuer, databaseIssuerSchema } from './catalog-database';
import { envName, requiredEnv } from './catalog-env';

const slackId = z.string().regex(SLACK_ID, SLACK_ID_DESCRIPTION);

function isRegExp(source: string): boolean {
  try {
    new RegExp(source, 'i');
    return true;
  } catch {
    return false;
  }
}
const k8sName = z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'a Kubernetes object name');

const consumerSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/),
    /** Optional only where the credential type has a default (DEFAULT_RELOAD). */
    reload: z.enum(RELOAD_MODES).optional(),
    kubernetes: z
      .object({ namespace: k8sName, deployment: k8sName, externalSecret: k8sName.optional() })
      .strict()
      .optional(),
    health: z
      .object({
        url: z.url(),
        expect: z
          .object({ field: z.string().min(1), equals: z.union([z.string(), z.number(), z.boolean()]) })
          .strict()
          .optional(),
        logs: z
          .object({
            errorPattern: z
              .string()
              .min(1)
              .refine(isRegExp, 'not a valid regular expression')
              .default(DEFAULT_LOG_ERROR_PATTERN),
            tailLines: z.number().int().min(1).max(10_000).default(50),
          })
          .strict()
          .optional(),
      })
      .strict()
      .optional(),
    cacheTtlSeconds: z.number().int().min(0).max(86_400).optional(),
  })
  .strict();

const restIssuerSchema = z
  .object({
    kind: z.literal('rest_api_key'),
    name: z.string().min(1),
    baseUrl: z.url(),
    /** Name of the environment variable holding the admin token; the token never sits in the catalog. */
    adminTokenEnv: envName,
    permissions: z.array(z.string().min(1)).default([]),
    keyName: z.string().min(1).optional(),
    /** Calls to this issuer in flight at once, across every worker (an incident rotates many keys). */
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
  })
  .strict();

const issuerSchema = z.discriminatedUnion('kind', [
  restIssuerSchema,
  databaseIssuerSchema,
  awsIamIssuerSchema,
  httpSecretIssuerSchema,
  manualIssuerSchema,
]);

/** Restart-required is the default where the runbook says so: OAuth client secrets are held in memory. */
const DEFAULT_RELOAD: Partial<Record<CredentialType, ReloadMode>> = { oauth_client_secret: 'startup' };

const credentialSchema = z
  .object({
    name: z.string().regex(CREDENTIAL_NAME, 'lower-case letters, digits and -, 2-63 characters'),
    type: z.enum(CREDENTIAL_TYPES),
    risk: z.enum(RISKS),
    store: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*(\/[a-z0-9][a-z0-9-]*)+$/, 'a KV path such as api-credentials/<name>')
      .optional(),
    kubernetesSecret: k8sName.optional(),
    /**
     * A label selector (app.kubernetes.io/part-of=payments) that every deployment able to mount the
     * secret carries, by the cluster's own policy: discovery then lists only those. Without it,
     * discovery lists every deployment of the consumers' namespaces.
     */
    discoverySelector: z
      .string()
      .max(512)
      .regex(/^[A-Za-z0-9][A-Za-z0-9._/=!, ()-]*$/, 'a Kubernetes label selector such as team=payments')
      .optional(),
    issuer: issuerSchema,
    consumers: z.array(consumerSchema).min(1),
    contact: z.string().min(1),
    channel: z.string().min(1).optional(),
    approvers: z.array(slackId).default([]),
    /** Where the declared consumers call the issuer from (IPs or IPv4 CIDRs): other callers are suspicious. */
    knownAddresses: z
      .array(z.string().regex(/^[0-9a-fA-F:.]+(\/\d{1,2})?$/, 'an IP address or CIDR'))
      .default([]),
  })
  .strict();

const catalogSchema = z
  .object({
    access: z
      .object({
        requesters: z.array(slackId).default([]),
        approvers: z.array(slackId).default([]),
        responders: z.array(slackId).default([]),
      })
      .strict()
      .default({ requesters: [], approvers: [], responders: [] }),
    credentials: z.array(credentialSchema).min(1),
  })
  .strict();

export interface Catalog {
  access: AccessPolicy;
  credentials: Map<string, CredentialSpec>;
}

type RawCatalog = z.infer<typeof catalogSchema>;

/** "credentials[0] (payment-gateway-api).consumers[1].reload: Invalid option …" */
function describeIssue(raw: unknown, issue: z.core.$ZodIssue): string {
  const path = issue.path;
  let where = path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
  if (path[0] === 'credentials' && typeof path[1] === 'number' && typeof raw === 'object' && raw !== null) {
    const creds = (raw as { credentials?: unknown }).credentials;
    const entry = Array.isArray(creds) ? (creds[path[1]] as { name?: unknown } | undefined) : undefined;
    if (entry && typeof entry.name === 'string')
      where = where.replace(`credentials[${path[1]}]`, `credentials[${path[1]}] (${entry.name})`);
  }
  return `${where || '(root)'}: ${issue.message}`;
}

/** Parses and validates catalog text; env supplies the issuers' admin tokens by variable name. */
export interface CatalogOptions {
  /** `optional`: a missing admin-token variable is no problem (read-only tools: the inventory). */
  issuerTokens?: 'required' | 'optional';
}

export function parseCatalog(
  text: string,
  env: Record<string, string | undefined>,
  source = 'catalog',
  opts: CatalogOptions = {},
): Catalog {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (e) {
    throw new RotatorError(
      'catalog_invalid',
      `${source}: not valid YAML (${e instanceof Error ? e.message.split('\n')[0] : 'parse error'})`,
    );
  }
  const parsed = catalogSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${describeIssue(raw, i)}`);
    throw new RotatorError('catalog_invalid', `${source} is invalid:\n${lines.join('\n')}`);
  }
  return build(parsed.data, env, source, opts);
}

/**
 * Checks that span credentials. Two credentials on one store path would overwrite each other's key
 * (each run's previous_key is the other's live value); a credential nobody may approve could never
 * be rotated from Slack, which should be found at start-up, not at the first /rotate.
 */
function crossCheck(data: RawCatalog): string[] {
  const problems: string[] = [];
  const storeOwner = new Map<string, string>();
  data.credentials.forEach((c, i) => {
    const at = `credentials[${i}] (${c.name})`;
    const store = c.store ?? `api-credentials/${c.name}`;
    const first = storeOwner.get(store);
    if (first)
      problems.push(`${at}.store: ${store} is also the store of ${first}; each credential needs its own`);
    else storeOwner.set(store, at);
    if (c.approvers.length === 0 && data.access.approvers.length === 0)
      problems.push(
        `${at}.approvers: nobody can approve ${c.name}; list approvers here or in access.approvers`,
      );
  });
  return problems;
}

function buildRestIssuer(
  raw: z.infer<typeof restIssuerSchema>,
  credential: string,
  env: Record<string, string | undefined>,
  at: string,
  problems: string[],
): IssuerSpec {
  const token = requiredEnv(env, raw.adminTokenEnv, `${at}.issuer.adminTokenEnv`, problems);
  return {
    kind: raw.kind,
    name: raw.name,
    baseUrl: raw.baseUrl,
    adminToken: new Secret(token ?? ''),
    permissions: raw.permissions,
    keyName: raw.keyName ?? credential,
    ...(raw.maxConcurrent ? { maxConcurrent: raw.maxConcurrent } : {}),
  };
}

/** One build function per issuer kind: each resolves its own secrets from `env`. */
function buildIssuer(
  c: RawCatalog['credentials'][number],
  env: Record<string, string | undefined>,
  at: string,
  problems: string[],
): IssuerSpec {
  const i = c.issuer;
  switch (i.kind) {
    case 'rest_api_key':
      return buildRestIssuer(i, c.name, env, at, problems);
    case 'aws_iam':
      return buildAwsIamIssuer(i, env, at, problems);
    case 'http_secret':
      return buildHttpSecretIssuer(i, env, at, problems);
    case 'manual':
      return buildManualIssuer(i);
    default:
      return buildDatabaseIssuer(i, env, at, problems);
  }
}

function build(
  data: RawCatalog,
  env: Record<string, string | undefined>,
  source: string,
  opts: CatalogOptions,
): Catalog {
  const problems: string[] = crossCheck(data);
  const credentials = new Map<string, CredentialSpec>();
  data.credentials.forEach((c, i) => {
    const at = `credentials[${i}] (${c.name})`;
    if (credentials.has(c.name)) problems.push(`${at}.name: duplicate credential name`);
    // A read-only tool (the inventory) needs no admin secret: only those problems are let pass.
    const issuerProblems: string[] = [];
    const issuer = buildIssuer(c, env, at, issuerProblems);
    problems.push(
      ...issuerProblems.filter((p) => opts.issuerTokens !== 'optional' || !p.endsWith('is not set')),
    );
    const names = new Set<string>();
    const consumers: Consumer[] = [];
    c.consumers.forEach((raw, j) => {
      const reload = raw.reload ?? DEFAULT_RELOAD[c.type];
      if (!reload) {
        problems.push(`${at}.consumers[${j}].reload: required for ${c.type} (startup, dynamic or scheduled)`);
        return;
      }
      const k: Consumer = { ...raw, reload };
      consumers.push(k);
      if (names.has(k.name)) problems.push(`${at}.consumers[${j}].name: duplicate consumer ${k.name}`);
      names.add(k.name);
      if (k.reload === 'startup' && !k.kubernetes)
        problems.push(`${at}.consumers[${j}].kubernetes: a startup consumer needs a deployment to restart`);
      if (k.health?.logs && !k.kubernetes)
        problems.push(`${at}.consumers[${j}].health.logs: a log check needs the consumer's deployment`);
    });
    credentials.set(c.name, {
      name: c.name,
      type: c.type,
      risk: c.risk,
      store: c.store ?? `api-credentials/${c.name}`,
      ...(c.kubernetesSecret ? { kubernetesSecret: c.kubernetesSecret } : {}),
      ...(c.discoverySelector ? { discoverySelector: c.discoverySelector } : {}),
      issuer,
      consumers,
      contact: c.contact,
      ...(c.channel ? { channel: c.channel } : {}),
      approvers: c.approvers,
      knownAddresses: c.knownAddresses,
    });
  });
  if (problems.length > 0) {
    throw new RotatorError(
      'catalog_invalid',
      `${source} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
  return { access: data.access, credentials };
}

export function loadCatalog(
  path: string,
  env: Record<string, string | undefined>,
  opts: CatalogOptions = {},
): Catalog {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new RotatorError('catalog_invalid', `catalog ${path} cannot be read`);
  }
  return parseCatalog(text, env, path, opts);
}
