/** JSON merge patch (RFC 7386) and the JSON patch (RFC 6902) operations the apiserver accepts. */
export type Json = null | boolean | number | string | Json[] | JsonObject;
export interface JsonObject {
  [key: string]: Json;
}

export class PatchError extends Error {}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch: maps merge, null deletes, lists (and everything else) replace. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const out: JsonObject = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function unescape(token: string): string {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parent(doc: Json, path: string): { container: Json; key: string } {
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer ${JSON.stringify(path)}`);
  const tokens = path.slice(1).split('/').map(unescape);
  const key = tokens.pop() ?? '';
  let node: Json = doc;
  for (const t of tokens) {
    const next: Json | undefined = Array.isArray(node)
      ? node[Number(t)]
      : isObject(node)
        ? node[t]
        : undefined;
    if (next === undefined) throw new PatchError(`path ${path} does not exist`);
    node = next;
  }
  return { container: node, key };
}

interface Op {
  op: string;
  path: string;
  value?: Json;
}

function isOp(v: unknown): v is Op {
  return isObject(v) && typeof v.op === 'string' && typeof v.path === 'string';
}

function applyOp(doc: Json, op: Op): void {
  const { container, key } = parent(doc, op.path);
  const has = Array.isArray(container)
    ? Number(key) < container.length
    : isObject(container) && key in container;
  if (op.op === 'test') {
    const current = Array.isArray(container)
      ? container[Number(key)]
      : isObject(container)
        ? container[key]
        : undefined;
    if (JSON.stringify(current) !== JSON.stringify(op.value))
      throw new PatchError(`test failed at ${op.path}`);
    return;
  }
  if ((op.op === 'remove' || op.op === 'replace') && !has)
    throw new PatchError(`path ${op.path} does not exist`);
  if (op.op !== 'add' && op.op !== 'remove' && op.op !== 'replace') {
    throw new PatchError(`unsupported operation ${JSON.stringify(op.op)}`);
  }
  if (Array.isArray(container)) {
    const idx = key === '-' ? container.length : Number(key);
    if (op.op === 'remove') container.splice(idx, 1);
    else if (op.op === 'replace') container[idx] = op.value ?? null;
    else container.splice(idx, 0, op.value ?? null);
  } else if (isObject(container)) {
    if (op.op === 'remove') delete container[key];
    else container[key] = op.value ?? null;
  } else throw new PatchError(`path ${op.path} does not exist`);
}

/** RFC 6902 add/remove/replace/test on a copy. A non-array body fails like the apiserver's decoder. */
export function jsonPatch(doc: Json, ops: unknown): Json {
  if (!Array.isArray(ops)) {
    throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  }
  const copy = structuredClone(doc);
  for (const op of ops) {
    if (!isOp(op)) throw new PatchError('invalid JSON patch operation');
    applyOp(copy, op);
  }
  return copy;
}
