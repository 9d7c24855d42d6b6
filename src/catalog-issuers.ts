/**
 * Catalog schemas of the issuers configured rather than coded: the generic HTTP secret issuer
 * (OAuth client secrets, service-account tokens) and the guided manual one.
 */
import { z } from 'zod';
import type { HttpSecretIssuerSpec, ManualIssuerSpec } from './domain/credential';
import { envName, requiredEnv } from './catalog-env';
import { Secret } from './domain/secret';

/** A path below the base URL; `{var}` placeholders are filled at call time. */
const apiPath = z.string().regex(/^\/[^\s]*$/, 'a path starting with /');
const field = z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'a field name or dot path');
const varName = z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]*$/);

export const httpSecretIssuerSchema = z
  .object({
    kind: z.literal('http_secret'),
    name: z.string().min(1),
    baseUrl: z.url(),
    adminTokenEnv: envName,
    vars: z.record(varName, z.string().min(1)).default({}),
    create: z
      .object({
        method: z.enum(['POST', 'PUT']).default('POST'),
        path: apiPath,
        body: z.record(z.string(), z.unknown()).default({}),
        idField: field.default('id'),
        valueField: field.default('secret'),
      })
      .strict(),
    list: z
      .object({
        path: apiPath,
        itemsField: z.union([field, z.literal('')]).default(''),
        idField: field.default('id'),
        labelField: field,
        createdField: field.optional(),
        statusField: field.optional(),
        lastUsedField: field.optional(),
      })
      .strict(),
    revoke: z
      .object({ method: z.enum(['DELETE', 'POST']).default('DELETE'), path: apiPath })
      .strict()
      .refine((r) => r.path.includes('{id}'), 'the revoke path must name the secret with {id}'),
    verify: z.discriminatedUnion('kind', [
      z
        .object({
          kind: z.literal('client_credentials'),
          path: apiPath,
          clientId: z.string().min(1),
          scope: z.string().min(1).optional(),
        })
        .strict(),
      z
        .object({ kind: z.literal('bearer'), method: z.enum(['GET', 'POST']).default('GET'), path: apiPath })
        .strict(),
    ]),
    maxConcurrent: z.number().int().min(1).max(1000).optional(),
  })
  .strict()
  .refine((i) => i.create.body && JSON.stringify(i.create.body).includes('{label}'), {
    message: "create.body must carry the run's label ({label}): the orphan sweep finds keys by it",
    path: ['create', 'body'],
  });

export const manualIssuerSchema = z
  .object({
    kind: z.literal('manual'),
    name: z.string().min(1),
    consoleUrl: z.url().optional(),
    steps: z.array(z.string().min(1)).min(1),
    testUrl: z.url().optional(),
  })
  .strict();

type RawHttpSecret = z.infer<typeof httpSecretIssuerSchema>;

/** Placeholders a path or field template names that neither `vars` nor the call itself fills. */
function unknownPlaceholders(raw: RawHttpSecret): string[] {
  const known = new Set([...Object.keys(raw.vars), 'id', 'label']);
  const templates = [raw.create.path, raw.list.path, raw.revoke.path, raw.verify.path];
  if (raw.verify.kind === 'client_credentials') templates.push(raw.verify.clientId);
  const names = templates.flatMap((t) => [...t.matchAll(/\{([a-zA-Z][a-zA-Z0-9_]*)\}/g)].map((m) => m[1]!));
  return [...new Set(names.filter((n) => !known.has(n)))];
}

/** The domain's spec of an HTTP secret issuer; problems (unset token, unknown placeholder) go to `problems`. */
export function buildHttpSecretIssuer(
  raw: RawHttpSecret,
  env: Record<string, string | undefined>,
  at: string,
  problems: string[],
): HttpSecretIssuerSpec {
  const token = requiredEnv(env, raw.adminTokenEnv, `${at}.issuer.adminTokenEnv`, problems);
  for (const n of unknownPlaceholders(raw))
    problems.push(`${at}.issuer: placeholder {${n}} is not in issuer.vars`);
  return {
    kind: 'http_secret',
    name: raw.name,
    baseUrl: raw.baseUrl,
    adminToken: new Secret(token ?? ''),
    vars: raw.vars,
    create: raw.create,
    list: {
      path: raw.list.path,
      itemsField: raw.list.itemsField,
      idField: raw.list.idField,
      labelField: raw.list.labelField,
      ...(raw.list.createdField ? { createdField: raw.list.createdField } : {}),
      ...(raw.list.statusField ? { statusField: raw.list.statusField } : {}),
      ...(raw.list.lastUsedField ? { lastUsedField: raw.list.lastUsedField } : {}),
    },
    revoke: raw.revoke,
    verify:
      raw.verify.kind === 'client_credentials'
        ? {
            kind: 'client_credentials',
            path: raw.verify.path,
            clientId: raw.verify.clientId,
            ...(raw.verify.scope ? { scope: raw.verify.scope } : {}),
          }
        : raw.verify,
    ...(raw.maxConcurrent ? { maxConcurrent: raw.maxConcurrent } : {}),
  };
}

/** The domain's spec of a manual issuer (nothing to resolve: it has no token). */
export function buildManualIssuer(raw: z.infer<typeof manualIssuerSchema>): ManualIssuerSpec {
  return {
    kind: 'manual',
    name: raw.name,
    steps: raw.steps,
    ...(raw.consoleUrl ? { consoleUrl: raw.consoleUrl } : {}),
    ...(raw.testUrl ? { testUrl: raw.testUrl } : {}),
  };
}
