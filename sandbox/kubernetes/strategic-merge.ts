import { isObject, PatchError, type Json, type JsonObject } from './patch';

/**
 * How the API server merges a list field (the Go struct tags patchStrategy / patchMergeKey): lists of
 * objects merged by a key, primitive lists merged as sets; every other list is replaced whole.
 */
export interface ListStrategy {
  mergeKey?: string;
}

/** Field paths (dot-separated, list indices left out) of a type's mergeable lists. */
export type MergeSchema = Record<string, ListStrategy>;

const OBJECT_META: MergeSchema = {
  'metadata.finalizers': {},
  'metadata.ownerReferences': { mergeKey: 'uid' },
};

const podSpec = (prefix: string): MergeSchema => ({
  [`${prefix}metadata.finalizers`]: {},
  [`${prefix}spec.containers`]: { mergeKey: 'name' },
  [`${prefix}spec.initContainers`]: { mergeKey: 'name' },
  [`${prefix}spec.containers.env`]: { mergeKey: 'name' },
  [`${prefix}spec.initContainers.env`]: { mergeKey: 'name' },
  [`${prefix}spec.containers.volumeMounts`]: { mergeKey: 'mountPath' },
  [`${prefix}spec.initContainers.volumeMounts`]: { mergeKey: 'mountPath' },
  [`${prefix}spec.containers.ports`]: { mergeKey: 'containerPort' },
  [`${prefix}spec.volumes`]: { mergeKey: 'name' },
  [`${prefix}spec.imagePullSecrets`]: { mergeKey: 'name' },
});

/** apps/v1 Deployment (k8s.io/api types.go tags). envFrom has no strategy: it is replaced. */
export const DEPLOYMENT_SCHEMA: MergeSchema = {
  ...OBJECT_META,
  ...podSpec('spec.template.'),
  'status.conditions': { mergeKey: 'type' },
};

export const POD_SCHEMA: MergeSchema = {
  ...OBJECT_META,
  ...podSpec(''),
  'status.conditions': { mergeKey: 'type' },
};

export const META_ONLY_SCHEMA: MergeSchema = OBJECT_META;

const SET_ORDER = '$setElementOrder/';
const DELETE_FROM = '$deleteFromPrimitiveList/';

/** A value as stored: every `$…` directive removed (the API server stores none of them). */
function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((e) => !(isObject(e) && e.$patch === 'replace')).map(stripDirectives);
  if (!isObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, child] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(child);
  return out;
}

const keyOf = (e: Json, mergeKey: string | undefined): Json | undefined =>
  mergeKey === undefined ? e : isObject(e) ? e[mergeKey] : undefined;

const indexIn = (list: Json[], e: Json, mergeKey: string | undefined): number => {
  const k = JSON.stringify(keyOf(e, mergeKey));
  return list.findIndex((x) => JSON.stringify(keyOf(x, mergeKey)) === k);
};

/**
 * strategicpatch.normalizeElementOrder: the items named by $setElementOrder in that order, merged
 * with the items only the server has, which keep their places relative to the original list.
 */
function applyOrder(merged: Json[], order: Json[], original: Json[], mergeKey: string | undefined): Json[] {
  const named = order
    .map((o) => merged.find((m) => indexIn([o], m, mergeKey) === 0))
    .filter((m): m is Json => m !== undefined);
  const serverOnly = merged.filter((m) => indexIn(order, m, mergeKey) < 0);
  const out: Json[] = [];
  let i = 0;
  let j = 0;
  while (i < named.length || j < serverOnly.length) {
    if (i >= named.length) out.push(serverOnly[j++]!);
    else if (j >= serverOnly.length) out.push(named[i++]!);
    else {
      const li = indexIn(original, named[i]!, mergeKey);
      const ri = indexIn(original, serverOnly[j]!, mergeKey);
      if (li >= 0 && ri >= 0 && li < ri) out.push(named[i++]!);
      else out.push(serverOnly[j++]!);
    }
  }
  return out;
}

function mergeList(original: Json[], patch: Json[], strategy: ListStrategy, path: string, s: MergeSchema) {
  if (patch.some((e) => isObject(e) && e.$patch === 'replace')) return stripDirectives(patch) as Json[];
  const { mergeKey } = strategy;
  const out = [...original];
  for (const p of patch) {
    if (mergeKey !== undefined) {
      if (!isObject(p)) throw new PatchError(`invalid value ${JSON.stringify(p)} in a list merged by key`);
      if (p[mergeKey] === undefined) {
        throw new PatchError(`map: ${JSON.stringify(p)} does not contain declared merge key: ${mergeKey}`);
      }
    }
    const idx = indexIn(out, p, mergeKey);
    if (isObject(p) && p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
    } else if (idx < 0) out.push(stripDirectives(p));
    else if (mergeKey !== undefined && isObject(out[idx]) && isObject(p)) {
      out[idx] = mergeMap(out[idx] as JsonObject, p, path, s);
    }
  }
  return out;
}

/**
 * k8s.io/apimachinery strategicpatch.StrategicMergeMapPatch for the directives clients send:
 * null deletes, maps merge, lists of the schema merge by key (`$patch: delete` removes an item,
 * `$patch: replace` replaces the list), `$setElementOrder/<list>` orders and
 * `$deleteFromPrimitiveList/<list>` removes; `$retainKeys` keeps only the keys it names.
 */
export function strategicMerge(
  original: JsonObject,
  patch: JsonObject,
  s: MergeSchema,
  path = '',
): JsonObject {
  return mergeMap(original, patch, path, s);
}

function mergeMap(original: JsonObject, patch: JsonObject, path: string, s: MergeSchema): JsonObject {
  if (patch.$patch === 'replace') return stripDirectives(patch) as JsonObject;
  if (patch.$patch !== undefined && patch.$patch !== 'merge' && patch.$patch !== 'delete') {
    throw new PatchError(`Unknown patch type: ${String(patch.$patch)} in map: ${JSON.stringify(patch)}`);
  }
  let out: JsonObject = { ...original };
  if (patch.$retainKeys !== undefined) {
    if (!Array.isArray(patch.$retainKeys)) throw new PatchError('invalid patch: $retainKeys must be a list');
    const keep = new Set(patch.$retainKeys.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  const at = (k: string) => (path === '' ? k : `${path}.${k}`);
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith(SET_ORDER)) continue;
    if (k.startsWith(DELETE_FROM)) {
      const field = k.slice(DELETE_FROM.length);
      if (!Array.isArray(v)) throw new PatchError('invalid patch: $deleteFromPrimitiveList must be a list');
      const current = out[field];
      if (Array.isArray(current)) out[field] = current.filter((e) => indexIn(v, e, undefined) < 0);
      continue;
    }
    if (v === null || (isObject(v) && v.$patch === 'delete')) {
      delete out[k];
      continue;
    }
    const current = out[k];
    const strategy = s[at(k)];
    if (isObject(v)) {
      out[k] = isObject(current) ? mergeMap(current, v, at(k), s) : (stripDirectives(v) as JsonObject);
    } else if (Array.isArray(v) && strategy) {
      out[k] = mergeList(Array.isArray(current) ? current : [], v, strategy, at(k), s);
    } else out[k] = stripDirectives(v);
  }
  for (const [k, order] of Object.entries(patch)) {
    if (!k.startsWith(SET_ORDER)) continue;
    const field = k.slice(SET_ORDER.length);
    if (!Array.isArray(order)) throw new PatchError('invalid patch: $setElementOrder must be a list');
    const list = out[field];
    const original_ = original[field];
    if (Array.isArray(list)) {
      out[field] = applyOrder(list, order, Array.isArray(original_) ? original_ : [], s[at(field)]?.mergeKey);
    }
  }
  return out;
}
