import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http';
import type { Cluster } from './cluster';
import { present, serveList, serveWatch, type CollectionRequest } from './collection';
import { discovery } from './discovery';
import { serveLog } from './logs';
import { RESOURCES, type ResourceDef } from './resources';
import { SelectorError } from './selectors';
import { badRequest, notFound, sendStatus, statusOf } from './status';
import { applyPatch, applyUpdate, isStatus, methodNotAllowed } from './writes';

/** /api/v1/… and /apis/<group>/<version>/…, namespaced or across namespaces, with a subresource. */
const RESOURCE_PATH =
  /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/([^/]+))?$/;

interface Target {
  def: ResourceDef;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

function target(path: string): Target | undefined {
  const m = RESOURCE_PATH.exec(path);
  if (!m) return undefined;
  const [, coreVersion, group = '', groupVersion, namespace, plural, name, subresource] = m;
  const version = coreVersion ?? groupVersion!;
  const def = RESOURCES[plural!];
  if (!def || def.group !== group || !def.versions.includes(version)) return undefined;
  if (subresource && !def.subresources.includes(subresource)) return undefined;
  return {
    def,
    version,
    ...(namespace ? { namespace: decodeURIComponent(namespace) } : {}),
    ...(name ? { name: decodeURIComponent(name) } : {}),
    ...(subresource ? { subresource } : {}),
  };
}

const contentTypeOf = (req: IncomingMessage) =>
  (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();

function serveCollection(cluster: Cluster, t: Target, req: IncomingMessage, res: ServerResponse): void {
  if ((req.method ?? 'GET') !== 'GET') return sendStatus(res, methodNotAllowed());
  const query = new URL(req.url ?? '/', 'http://double').searchParams;
  const request: CollectionRequest = { def: t.def, version: t.version, namespace: t.namespace, query };
  const watch = query.get('watch');
  try {
    if (watch === 'true' || watch === '1') serveWatch(cluster.store, request, { req, res });
    else serveList(cluster.store, request, res);
  } catch (e) {
    if (!(e instanceof SelectorError)) throw e;
    sendStatus(res, badRequest(e.message));
  }
}

function serveObject(cluster: Cluster, t: Target, req: IncomingMessage, res: ServerResponse, body: string) {
  const { def, version } = t;
  const key = `${t.namespace}/${t.name}`;
  const current = cluster.store.get(def.plural, key);
  if (!current) return sendStatus(res, notFound(def.plural, def.group, t.name!));
  const method = req.method ?? 'GET';
  if (t.subresource === 'log') {
    const rt = cluster.pods.get(key);
    if (method !== 'GET' || !rt) return sendStatus(res, methodNotAllowed());
    return serveLog(current, rt, new URL(req.url ?? '/', 'http://double').searchParams, { req, res });
  }
  if (method === 'GET') return sendJson(res, 200, present(def, version, current));
  if (method === 'DELETE' && def.verbs.includes('delete')) {
    const deleted = cluster.deletePod(key);
    return sendJson(res, 200, present(def, version, deleted ?? current));
  }
  if (
    (method !== 'PATCH' && method !== 'PUT') ||
    !def.verbs.includes(method === 'PATCH' ? 'patch' : 'update')
  ) {
    return sendStatus(res, methodNotAllowed());
  }
  // Status is a subresource: writes through it are not modelled, and the main resource ignores status.
  if (t.subresource) return sendStatus(res, methodNotAllowed());
  const next =
    method === 'PATCH' ? applyPatch(def, current, contentTypeOf(req), body) : applyUpdate(def, current, body);
  if (isStatus(next)) return sendStatus(res, next);
  sendJson(res, 200, present(def, version, cluster.update(def.plural, key, next)));
}

/** Serves the apiserver paths; returns false when the path is not one of them. */
export function handleApi(
  cluster: Cluster,
  req: IncomingMessage,
  res: ServerResponse,
  body: string,
  serverAddress: string,
): boolean {
  const path = new URL(req.url ?? '/', 'http://double').pathname;
  const doc = discovery(path, serverAddress);
  if (doc) {
    sendJson(res, 200, doc);
    return true;
  }
  const t = target(path);
  if (!t) return false;
  if (!t.name) serveCollection(cluster, t, req, res);
  else if (!t.namespace)
    sendStatus(res, statusOf(404, 'NotFound', 'the server could not find the requested resource'));
  else serveObject(cluster, t, req, res, body);
  return true;
}
