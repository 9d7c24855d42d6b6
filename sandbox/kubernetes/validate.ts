import { isObject, type Json, type JsonObject } from './patch';

type FieldType = 'string' | 'integer' | 'boolean' | 'object' | 'array';

/** A typed field: where (`[]` = each list item, `{}` = each map value), its JSON type, its Go type. */
interface Rule {
  path: string;
  type: FieldType;
  struct: string;
  goType: string;
}

const rule = (path: string, type: FieldType, struct: string, goType: string): Rule => ({
  path,
  type,
  struct,
  goType,
});

const metaRules = (prefix: string): Rule[] => [
  rule(`${prefix}metadata`, 'object', 'ObjectMeta', 'v1.ObjectMeta'),
  rule(`${prefix}metadata.labels`, 'object', 'ObjectMeta', 'map[string]string'),
  rule(`${prefix}metadata.labels{}`, 'string', 'ObjectMeta', 'string'),
  rule(`${prefix}metadata.annotations`, 'object', 'ObjectMeta', 'map[string]string'),
  rule(`${prefix}metadata.annotations{}`, 'string', 'ObjectMeta', 'string'),
];

const container = (p: string): Rule[] => [
  rule(`${p}`, 'array', 'PodSpec', '[]v1.Container'),
  rule(`${p}[]`, 'object', 'PodSpec', 'v1.Container'),
  rule(`${p}[].name`, 'string', 'Container', 'string'),
  rule(`${p}[].image`, 'string', 'Container', 'string'),
  rule(`${p}[].env`, 'array', 'Container', '[]v1.EnvVar'),
  rule(`${p}[].env[]`, 'object', 'Container', 'v1.EnvVar'),
  rule(`${p}[].env[].name`, 'string', 'EnvVar', 'string'),
  rule(`${p}[].env[].value`, 'string', 'EnvVar', 'string'),
  rule(`${p}[].env[].valueFrom`, 'object', 'EnvVar', 'v1.EnvVarSource'),
  rule(`${p}[].envFrom`, 'array', 'Container', '[]v1.EnvFromSource'),
  rule(`${p}[].envFrom[]`, 'object', 'Container', 'v1.EnvFromSource'),
];

/** The apps/v1 Deployment fields a client is likely to get wrong. */
const DEPLOYMENT: Rule[] = [
  ...metaRules(''),
  rule('spec', 'object', 'Deployment', 'v1.DeploymentSpec'),
  rule('spec.replicas', 'integer', 'DeploymentSpec', 'int32'),
  rule('spec.paused', 'boolean', 'DeploymentSpec', 'bool'),
  rule('spec.progressDeadlineSeconds', 'integer', 'DeploymentSpec', 'int32'),
  rule('spec.minReadySeconds', 'integer', 'DeploymentSpec', 'int32'),
  rule('spec.revisionHistoryLimit', 'integer', 'DeploymentSpec', 'int32'),
  rule('spec.template', 'object', 'DeploymentSpec', 'v1.PodTemplateSpec'),
  ...metaRules('spec.template.'),
  rule('spec.template.spec', 'object', 'PodTemplateSpec', 'v1.PodSpec'),
  ...container('spec.template.spec.containers'),
  ...container('spec.template.spec.initContainers'),
];

/** The ExternalSecret CRD's structural schema, as far as this double stores it. */
const EXTERNAL_SECRET: Rule[] = [
  ...metaRules(''),
  rule('spec', 'object', '', ''),
  rule('spec.refreshInterval', 'string', '', ''),
  rule('spec.target', 'object', '', ''),
  rule('spec.target.name', 'string', '', ''),
  rule('spec.data', 'array', '', ''),
  rule('spec.data[]', 'object', '', ''),
  rule('spec.data[].secretKey', 'string', '', ''),
  rule('spec.data[].remoteRef', 'object', '', ''),
  rule('spec.data[].remoteRef.key', 'string', '', ''),
];

function jsonType(v: Json): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v === 'object' ? 'object' : typeof v === 'boolean' ? 'boolean' : 'string';
}

const fits = (v: Json, t: FieldType) => v === null || jsonType(v) === t;

/** Every value at a rule's path, with the concrete path (indices and keys filled in). */
function valuesAt(node: Json | undefined, parts: string[], at: string[]): Array<{ v: Json; path: string[] }> {
  if (node === undefined) return [];
  if (parts.length === 0) return [{ v: node, path: at }];
  const [head, ...rest] = parts as [string, ...string[]];
  const name = head.replace(/(\[\]|\{\})$/, '');
  const child = name === '' ? node : isObject(node) ? node[name] : undefined;
  const base = name === '' ? at : [...at, name];
  if (head.endsWith('[]')) {
    return Array.isArray(child)
      ? child.flatMap((c, i) => valuesAt(c, rest, [...base.slice(0, -1), `${base.at(-1)}[${i}]`]))
      : [];
  }
  if (head.endsWith('{}')) {
    return isObject(child) ? Object.entries(child).flatMap(([k, c]) => valuesAt(c, rest, [...base, k])) : [];
  }
  return valuesAt(child, rest, base);
}

export interface TypeError_ {
  rule: Rule;
  value: Json;
  path: string;
}

function firstTypeError(obj: JsonObject, rules: Rule[]): TypeError_ | undefined {
  for (const r of rules) {
    for (const { v, path } of valuesAt(obj, r.path.split('.'), [])) {
      if (!fits(v, r.type)) return { rule: r, value: v, path: path.join('.') };
    }
  }
  return undefined;
}

const GO_KIND: Record<string, string> = {
  string: 'string',
  integer: 'int64',
  number: 'float64',
  boolean: 'bool',
  array: 'slice',
  object: 'map',
};

/** What runtime.DefaultUnstructuredConverter says (a strategic merge patch is decoded this way). */
function converterMessage(e: TypeError_): string {
  const from = GO_KIND[jsonType(e.value)] ?? 'interface';
  if (e.rule.type === 'array') return `cannot restore slice from ${from}`;
  if (e.rule.type === 'object') {
    return e.rule.goType.startsWith('map[')
      ? `cannot restore map from ${from}`
      : `cannot restore struct from: ${from}`;
  }
  return `unrecognized type: ${e.rule.goType}`;
}

/** What encoding/json says (merge and JSON patches, and updates, are decoded this way). */
function jsonMessage(e: TypeError_): string {
  const t = jsonType(e.value);
  const shown =
    t === 'integer' || t === 'number' ? `number ${String(e.value)}` : t === 'boolean' ? 'bool' : t;
  const field = e.rule.path.replace(/\[\]|\{\}/g, '');
  return `json: cannot unmarshal ${shown} into Go struct field ${e.rule.struct}.${field} of type ${e.rule.goType}`;
}

export type DecodedBy = 'converter' | 'json';

/** The decoding error of a built-in object with a field of the wrong type, or undefined. */
export function builtInDecodeError(resource: string, obj: JsonObject, by: DecodedBy): string | undefined {
  if (resource !== 'deployments') return undefined;
  const e = firstTypeError(obj, DEPLOYMENT);
  if (!e) return undefined;
  return by === 'converter' ? converterMessage(e) : jsonMessage(e);
}

/** A custom resource's schema violations, worded like apiextensions' structural validation. */
export function customResourceErrors(resource: string, obj: JsonObject): string[] {
  if (resource !== 'externalsecrets') return [];
  const e = firstTypeError(obj, EXTERNAL_SECRET);
  if (!e) return [];
  const t = jsonType(e.value);
  return [`${e.path}: Invalid value: "${t}": ${e.path} in body must be of type ${e.rule.type}: "${t}"`];
}

/** Validation after decoding (apps/validation): what a well-typed Deployment may still not be. */
export function deploymentErrors(obj: JsonObject): string[] {
  const errors: string[] = [];
  const spec = isObject(obj.spec) ? obj.spec : {};
  if (typeof spec.replicas === 'number' && spec.replicas < 0) {
    errors.push(`spec.replicas: Invalid value: ${spec.replicas}: must be greater than or equal to 0`);
  }
  const podSpec = isObject(spec.template) && isObject(spec.template.spec) ? spec.template.spec : {};
  const containers = Array.isArray(podSpec.containers) ? podSpec.containers : [];
  if (containers.length === 0) errors.push('spec.template.spec.containers: Required value');
  containers.forEach((c, i) => {
    const at = `spec.template.spec.containers[${i}]`;
    if (!isObject(c)) return;
    if (typeof c.name !== 'string' || c.name === '') errors.push(`${at}.name: Required value`);
    if (typeof c.image !== 'string' || c.image === '') errors.push(`${at}.image: Required value`);
    (Array.isArray(c.env) ? c.env : []).forEach((e, j) => {
      if (isObject(e) && (typeof e.name !== 'string' || e.name === '')) {
        errors.push(`${at}.env[${j}].name: Required value`);
      }
    });
  });
  return errors;
}

/** Go's fmt "%+v" of a decoded JSON value, as the apiserver quotes a patch in its errors. */
export function goFormat(v: Json): string {
  if (Array.isArray(v)) return `[${v.map(goFormat).join(' ')}]`;
  if (v === null) return '<nil>';
  if (isObject(v)) {
    const keys = Object.keys(v).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(v[k]!)}`).join(' ')}]`;
  }
  return String(v);
}
