import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http';
import type { Cluster } from './cluster';
import { isObject, jsonPatch, mergePatch, PatchError, type Json, type JsonObject } from './patch';
import { badRequest, notFound, sendStatus, statusOf, unsupportedMediaType, type KubeStatus } from './status';

const JSON_PATCH = 'application/json-patch+json';
const MERGE_PATCH = 'application/merge-patch+json';
const STRATEGIC = 'application/strategic-merge-patch+json';
const APPLY_YAML = 'application/apply-patch+yaml';
const APPLY_CBOR = 'application/apply-patch+cbor';

interface Resource {
  group: string;
  plural: string;
  listKind: string;
  apiVersion: string;
  store: Map<string, JsonObject>;
  /** Built-in types accept strategic-merge patch; custom resources answer 415. */
  patchTypes: readonly string[];
  /** Typed lists from the apiserver omit kind/apiVersion on items; CR lists keep them. */
  builtIn: boolean;
  update?: (key: string, next: JsonObject) => JsonObject;
}

function resources(cluster: Cluster): Record<string, Resource> {
  return {
    deployments: {
      group: 'apps',
      plural: 'deployments',
      listKind: 'DeploymentList',
      apiVersion: 'apps/v1',
      store: cluster.deployments,
      patchTypes: [JSON_PATCH, MERGE_PATCH, APPLY_YAML, STRATEGIC, APPLY_CBOR],
      builtIn: true,
      update: (k, next) => cluster.updateDeployment(k, next),
    },
    secrets: {
      group: '',
      plural: 'secrets',
      listKind: 'SecretList',
      apiVersion: 'v1',
      store: cluster.secrets,
      patchTypes: [],
      builtIn: true,
    },
    externalsecrets: {
      group: 'external-secrets.io',
      plural: 'externalsecrets',
      listKind: 'ExternalSecretList',
      apiVersion: 'external-secrets.io/v1',
      store: cluster.externalSecrets,
      patchTypes: [JSON_PATCH, MERGE_PATCH, APPLY_YAML],
      builtIn: false,
      update: (k, next) => cluster.updateExternalSecret(k, next),
    },
  };
}

const ROUTES: Array<{ re: RegExp; resource: string }> = [
  { re: /^\/apis\/apps\/v1(?:\/namespaces\/([^/]+))?\/deployments(?:\/([^/]+))?$/, resource: 'deployments' },
  { re: /^\/api\/v1(?:\/namespaces\/([^/]+))?\/secrets(?:\/([^/]+))?$/, resource: 'secrets' },
  {
    re: /^\/apis\/external-secrets\.io\/v1(?:\/namespaces\/([^/]+))?\/externalsecrets(?:\/([^/]+))?$/,
    resource: 'externalsecrets',
  },
];

function applyPatch(
  contentType: string,
  doc: JsonObject,
  body: string,
  accepted: readonly string[],
): Json | KubeStatus {
  // The double implements the three patch flavours; server-side apply is answered as unsupported.
  if (!accepted.includes(contentType) || contentType === APPLY_YAML || contentType === APPLY_CBOR) {
    return unsupportedMediaType(accepted);
  }
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch {
    return badRequest('error decoding patch: invalid JSON');
  }
  try {
    if (contentType === JSON_PATCH) return jsonPatch(doc, patch);
    if (!isObject(patch)) return badRequest('error decoding patch: a merge patch must be a JSON object');
    return mergePatch(doc, patch);
  } catch (e) {
    if (e instanceof PatchError) return badRequest(e.message);
    throw e;
  }
}

function isStatus(v: unknown): v is KubeStatus {
  return isObject(v) && v.kind === 'Status';
}

/** Serves the apiserver paths; returns false when the path is not one of them. */
export function handleApi(
  cluster: Cluster,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
): boolean {
  const url = new URL(req.url ?? '/', 'http://double');
  const route = ROUTES.map((r) => ({ m: r.re.exec(url.pathname), resource: r.resource })).find((r) => r.m);
  if (!route?.m) return false;
  const r = resources(cluster)[route.resource]!;
  const [, namespace, name] = route.m;
  const method = req.method ?? 'GET';

  if (!name) {
    if (method !== 'GET') {
      sendStatus(
        res,
        statusOf(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`),
      );
      return true;
    }
    const items = [...r.store.values()]
      .filter((o) => !namespace || (isObject(o.metadata) && o.metadata.namespace === namespace))
      .map((o) => (r.builtIn ? { ...o, kind: undefined, apiVersion: undefined } : o));
    sendJson(res, 200, {
      kind: r.listKind,
      apiVersion: r.apiVersion,
      metadata: { resourceVersion: cluster.nextResourceVersion() },
      items,
    });
    return true;
  }
  if (!namespace) return false;

  const key = `${namespace}/${decodeURIComponent(name)}`;
  const current = r.store.get(key);
  if (!current) {
    sendStatus(res, notFound(r.plural, r.group, decodeURIComponent(name)));
    return true;
  }
  if (method === 'GET') {
    sendJson(res, 200, current);
    return true;
  }
  if (method !== 'PATCH' || !r.update) {
    sendStatus(
      res,
      statusOf(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource'),
    );
    return true;
  }
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const next = applyPatch(contentType, current, body, r.patchTypes);
  if (isStatus(next)) sendStatus(res, next);
  else if (!isObject(next)) sendStatus(res, badRequest('the patched object is not an object'));
  else sendJson(res, 200, r.update(key, next));
  return true;
}
