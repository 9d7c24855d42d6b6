import { isObject, jsonPatch, mergePatch, PatchError, type Json, type JsonObject } from './patch';
import { APPLY_CBOR, APPLY_YAML, JSON_PATCH, STRATEGIC, type ResourceDef } from './resources';
import { badRequest, conflict, invalid, statusOf, unsupportedMediaType, type KubeStatus } from './status';
import { strategicMerge } from './strategic-merge';
import { builtInDecodeError, customResourceErrors, deploymentErrors, goFormat } from './validate';

const rvOf = (o: Json | undefined): string | undefined =>
  isObject(o) && isObject(o.metadata) && typeof o.metadata.resourceVersion === 'string'
    ? o.metadata.resourceVersion
    : undefined;

const nameOf = (o: JsonObject): string => (isObject(o.metadata) ? String(o.metadata.name ?? '') : '');

/** "spec.replicas: Invalid value: -1: must be …" → a Status cause. */
const cause = (line: string) => {
  const i = line.indexOf(': ');
  return { field: line.slice(0, i), message: line.slice(i + 2) };
};

/** Validation once the new object decoded: the apiserver's 422 with the object's kind and name. */
function semanticErrors(def: ResourceDef, next: JsonObject): KubeStatus | undefined {
  const lines = def.builtIn
    ? def.plural === 'deployments'
      ? deploymentErrors(next)
      : []
    : customResourceErrors(def.plural, next);
  return lines.length > 0 ? invalid(def.kind, def.group, nameOf(next), lines.map(cause)) : undefined;
}

/**
 * A PATCH as the apiserver applies it: the patch type from Content-Type (custom resources refuse
 * strategic merge with 415), decoding into the type (a field of the wrong type is 422 Invalid with
 * an empty kind and name, as patch.go words it), validation, and optimistic concurrency (a
 * metadata.resourceVersion that is not the current one is 409 Conflict).
 */
export function applyPatch(
  def: ResourceDef,
  current: JsonObject,
  contentType: string,
  body: string,
): JsonObject | KubeStatus {
  // Server-side apply is answered as unsupported.
  if (!def.patchTypes.includes(contentType) || contentType === APPLY_YAML || contentType === APPLY_CBOR) {
    return unsupportedMediaType(def.patchTypes);
  }
  let patch: unknown;
  try {
    patch = JSON.parse(body);
  } catch {
    return badRequest('error decoding patch: invalid character looking for beginning of value');
  }
  let next: Json;
  try {
    if (contentType === JSON_PATCH) next = jsonPatch(current, patch);
    else if (!isObject(patch)) {
      return badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
    } else
      next =
        contentType === STRATEGIC ? strategicMerge(current, patch, def.schema) : mergePatch(current, patch);
  } catch (e) {
    if (e instanceof PatchError) return badRequest(e.message);
    throw e;
  }
  if (!isObject(next)) return badRequest('the patched object is not an object');
  if (def.builtIn) {
    const strategic = contentType === STRATEGIC;
    const decodeError = builtInDecodeError(def.plural, next, strategic ? 'converter' : 'json');
    if (decodeError) {
      const quoted = strategic ? goFormat(patch as Json) : JSON.stringify(next);
      return invalid('', '', '', [
        { field: 'patch', message: `Invalid value: ${JSON.stringify(quoted)}: ${decodeError}` },
      ]);
    }
  }
  const rv = rvOf(next);
  if (rv !== undefined && rv !== rvOf(current)) return conflict(def.plural, def.group, nameOf(current));
  return semanticErrors(def, next) ?? next;
}

/** A PUT (replace): the body must decode, name the object of the URL, and carry no stale resourceVersion. */
export function applyUpdate(def: ResourceDef, current: JsonObject, body: string): JsonObject | KubeStatus {
  let next: unknown;
  try {
    next = JSON.parse(body);
  } catch {
    return badRequest('the body of the request could not be decoded');
  }
  if (!isObject(next)) return badRequest(`${def.kind} in version "v1" cannot be handled as a ${def.kind}`);
  if (def.builtIn) {
    const decodeError = builtInDecodeError(def.plural, next, 'json');
    if (decodeError) {
      return badRequest(`${def.kind} in version "v1" cannot be handled as a ${def.kind}: ${decodeError}`);
    }
  }
  if (nameOf(next) !== nameOf(current)) {
    return badRequest(
      `the name of the object (${nameOf(next)}) does not match the name on the URL (${nameOf(current)})`,
    );
  }
  // An update without a resourceVersion is unconditional (AllowUnconditionalUpdate).
  const rv = rvOf(next);
  if (rv !== undefined && rv !== '' && rv !== rvOf(current)) {
    return conflict(def.plural, def.group, nameOf(current));
  }
  const withStatus: JsonObject = { ...next };
  delete withStatus.status;
  return semanticErrors(def, withStatus) ?? withStatus;
}

export function isStatus(v: unknown): v is KubeStatus {
  return isObject(v) && v.kind === 'Status';
}

export const methodNotAllowed = () =>
  statusOf(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
