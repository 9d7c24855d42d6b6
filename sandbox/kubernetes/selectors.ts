import { isObject, type Json, type JsonObject } from './patch';

export class SelectorError extends Error {}

type Requirement =
  { key: string; op: 'in' | 'notin'; values: string[] } | { key: string; op: 'exists' | '!exists' };

/**
 * Splits on commas outside parentheses: "app in (a,b),tier" → ["app in (a,b)", "tier"].
 */
function terms(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const c of selector) {
    if (c === '(') depth += 1;
    if (c === ')') depth -= 1;
    if (c === ',' && depth === 0) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = /^[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?$/;

function requireKey(key: string, term: string): string {
  if (!KEY.test(key)) throw new SelectorError(`unable to parse requirement: invalid label key "${key}"`);
  if (term === '') throw new SelectorError('unable to parse requirement');
  return key;
}

function parseTerm(term: string): Requirement {
  const set = /^(\S+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(term);
  if (set) {
    const values = set[3]!
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    return { key: requireKey(set[1]!, term), op: set[2] as 'in' | 'notin', values };
  }
  const cmp = /^([^=!\s]+)\s*(==|=|!=)\s*(\S*)$/.exec(term);
  if (cmp) {
    const key = requireKey(cmp[1]!, term);
    return { key, op: cmp[2] === '!=' ? 'notin' : 'in', values: [cmp[3]!] };
  }
  if (term.startsWith('!')) return { key: requireKey(term.slice(1).trim(), term), op: '!exists' };
  return { key: requireKey(term, term), op: 'exists' };
}

/** k8s.io/apimachinery labels.Parse: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`. */
export function labelSelector(selector: string | null): (labels: Record<string, string>) => boolean {
  const reqs = terms(selector ?? '').map(parseTerm);
  return (labels) =>
    reqs.every((r) => {
      const has = Object.prototype.hasOwnProperty.call(labels, r.key);
      switch (r.op) {
        case 'exists':
          return has;
        case '!exists':
          return !has;
        case 'in':
          return has && r.values.includes(labels[r.key]!);
        case 'notin':
          return !has || !r.values.includes(labels[r.key]!);
      }
    });
}

/** The fields each resource can be selected by (the apiserver's field label conversion funcs). */
const FIELDS: Record<string, string[]> = {
  pods: ['metadata.name', 'metadata.namespace', 'spec.nodeName', 'status.phase'],
  secrets: ['metadata.name', 'metadata.namespace', 'type'],
};

function fieldValue(o: JsonObject, path: string): string {
  let v: Json | undefined = o;
  for (const part of path.split('.')) v = isObject(v) ? v[part] : undefined;
  return v === undefined || v === null ? '' : String(v);
}

/** fields.ParseSelector: `f=v`, `f==v`, `f!=v`, comma-separated; unsupported fields answer 400. */
export function fieldSelector(resource: string, selector: string | null): (o: JsonObject) => boolean {
  const allowed = FIELDS[resource] ?? ['metadata.name', 'metadata.namespace'];
  const reqs = terms(selector ?? '').map((term) => {
    const m = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(term);
    if (!m) throw new SelectorError(`invalid selector: '${term}'; can't understand '${term}'`);
    if (!allowed.includes(m[1]!)) throw new SelectorError(`field label not supported: ${m[1]!}`);
    return { field: m[1]!, negate: m[2] === '!=', value: m[3]!.trim() };
  });
  return (o) => reqs.every((r) => (fieldValue(o, r.field) === r.value) !== r.negate);
}

export function labelsOf(o: JsonObject): Record<string, string> {
  const meta = isObject(o.metadata) ? o.metadata : {};
  const labels = isObject(meta.labels) ? meta.labels : {};
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [k, String(v)]));
}

/** Both selectors of a list or watch request, for one resource. */
export function selectorOf(resource: string, query: URLSearchParams): (o: JsonObject) => boolean {
  const labels = labelSelector(query.get('labelSelector'));
  const fields = fieldSelector(resource, query.get('fieldSelector'));
  return (o) => labels(labelsOf(o)) && fields(o);
}
