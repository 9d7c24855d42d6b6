import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http';
import { isObject, type JsonObject } from './patch';
import { groupVersion, type ResourceDef } from './resources';
import { selectorOf } from './selectors';
import { badRequest, gone, sendStatus } from './status';
import type { ObjectStore, StoredEvent } from './store';

export interface CollectionRequest {
  def: ResourceDef;
  version: string;
  namespace: string | undefined;
  query: URLSearchParams;
}

const nsOf = (o: JsonObject) => (isObject(o.metadata) ? String(o.metadata.namespace ?? '') : '');

/** The object as served at the requested group/version (an ExternalSecret read through v1beta1 says so). */
export function present(def: ResourceDef, version: string, o: JsonObject): JsonObject {
  return { ...o, apiVersion: groupVersion(def.group, version), kind: def.kind };
}

interface ContinueToken {
  rv: number;
  start: string;
}

const encodeContinue = (t: ContinueToken) =>
  Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: t.rv, start: t.start })).toString('base64url');

function decodeContinue(token: string): ContinueToken | undefined {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (isObject(parsed) && typeof parsed.rv === 'number' && typeof parsed.start === 'string') {
      return { rv: parsed.rv, start: parsed.start };
    }
  } catch {
    // falls through to the 400 below
  }
  return undefined;
}

/**
 * GET on a collection: selectors filter, `limit` and `continue` page in key order (the last page's
 * metadata.continue is absent). Items of built-in lists carry no kind/apiVersion, as the apiserver
 * serialises typed lists.
 */
export function serveList(store: ObjectStore, req: CollectionRequest, res: ServerResponse): void {
  const { def, version, namespace, query } = req;
  const match = selectorOf(def.plural, query);
  const limit = Number(query.get('limit') ?? '0');
  const token = query.get('continue');
  const from = token ? decodeContinue(token) : undefined;
  if (token && !from) return sendStatus(res, badRequest('continue key is not valid: illegal base64 data'));
  const rv = from?.rv ?? store.resourceVersion();
  const all = store
    .list(def.plural)
    .filter(({ key, object }) => (!namespace || nsOf(object) === namespace) && (!from || key > from.start))
    .filter(({ object }) => match(object));
  const page = Number.isInteger(limit) && limit > 0 ? all.slice(0, limit) : all;
  const rest = all.length - page.length;
  const last = page.at(-1);
  const metadata: JsonObject = { resourceVersion: String(rv) };
  if (rest > 0 && last) {
    metadata.continue = encodeContinue({ rv, start: last.key });
    metadata.remainingItemCount = rest;
  }
  sendJson(res, 200, {
    kind: def.listKind,
    apiVersion: groupVersion(def.group, version),
    metadata,
    items: page.map(({ object }) => {
      const shown = present(def, version, object);
      if (!def.builtIn) return shown;
      const { kind: _kind, apiVersion: _apiVersion, ...item } = shown;
      return item;
    }),
  });
}

/** How one stored change looks to a watcher with a selector (an object leaving the selection is DELETED). */
function asSeen(e: StoredEvent, match: (o: JsonObject) => boolean): StoredEvent['type'] | undefined {
  const now = e.type !== 'DELETED' && match(e.object);
  const before = e.previous !== undefined && match(e.previous);
  if (e.type === 'DELETED') return before || match(e.object) ? 'DELETED' : undefined;
  if (now && before) return 'MODIFIED';
  if (now) return 'ADDED';
  return before ? 'DELETED' : undefined;
}

/** How often a watch that asked for bookmarks gets one (the apiserver's cacher: about a minute). */
const BOOKMARK_EVERY_MS = 60_000;
/** The cacher also sends one this long before a watch's timeoutSeconds runs out. */
const BOOKMARK_BEFORE_DEADLINE_MS = 2_000;

/**
 * GET ?watch=true: one JSON object per line, {"type":"ADDED|MODIFIED|DELETED","object":…}. Without a
 * resourceVersion (or "0") it starts with an ADDED per current object; with one it replays every
 * change after it, or answers an ERROR event with a 410 Status when that history is gone. With
 * allowWatchBookmarks=true it also sends BOOKMARK events (an object with only kind, apiVersion and
 * metadata.resourceVersion: everything up to that version was sent) every minute and shortly before
 * timeoutSeconds ends the watch, as the apiserver's watch cache does.
 */
export function serveWatch(
  store: ObjectStore,
  req: CollectionRequest,
  http: { req: IncomingMessage; res: ServerResponse },
): void {
  const { def, version, namespace, query } = req;
  const { res } = http;
  const match = selectorOf(def.plural, query);
  const inNamespace = (o: JsonObject) => !namespace || nsOf(o) === namespace;
  const rvParam = query.get('resourceVersion') ?? '';
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  // A watch with nothing to say yet is still a watch: the client has its headers at once.
  res.flushHeaders();
  const send = (type: string, object: JsonObject) => res.write(`${JSON.stringify({ type, object })}\n`);

  if (rvParam === '' || rvParam === '0') {
    for (const { object } of store.list(def.plural)) {
      if (inNamespace(object) && match(object)) send('ADDED', present(def, version, object));
    }
  } else {
    const requested = Number(rvParam);
    const history = Number.isInteger(requested) ? store.since(def.plural, requested) : undefined;
    if (!history) {
      send('ERROR', { ...gone(requested, store.oldestResumable()) });
      res.end();
      return;
    }
    for (const e of history) {
      const type = inNamespace(e.object) ? asSeen(e, match) : undefined;
      if (type) send(type, present(def, version, e.object));
    }
  }
  const unsubscribe = store.subscribe((e) => {
    if (e.resource !== def.plural || !inNamespace(e.object)) return;
    const type = asSeen(e, match);
    if (type) send(type, present(def, version, e.object));
  });
  const timeoutSeconds = Number(query.get('timeoutSeconds') ?? '0');
  const timers: NodeJS.Timeout[] = [];
  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(fn, ms);
    t.unref();
    timers.push(t);
  };
  if (query.get('allowWatchBookmarks') === 'true') {
    const bookmark = () =>
      send('BOOKMARK', {
        kind: def.kind,
        apiVersion: groupVersion(def.group, version),
        metadata: { resourceVersion: String(store.resourceVersion()) },
      });
    const every = setInterval(bookmark, BOOKMARK_EVERY_MS);
    every.unref();
    timers.push(every);
    if (timeoutSeconds > 0) later(Math.max(0, timeoutSeconds * 1000 - BOOKMARK_BEFORE_DEADLINE_MS), bookmark);
  }
  if (timeoutSeconds > 0) {
    later(timeoutSeconds * 1000, () => {
      unsubscribe();
      res.end();
    });
  }
  res.on('close', () => {
    unsubscribe();
    for (const t of timers) clearTimeout(t);
  });
}
