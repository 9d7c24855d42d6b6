import type { ServerResponse } from 'node:http';
import { sendJson } from '../http';

/** The apiserver's error body: a meta/v1 Status object. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    causes?: Array<{ reason: string; message: string; field: string }>;
  };
  code: number;
}

export function statusOf(
  code: number,
  reason: string,
  message: string,
  details?: KubeStatus['details'],
): KubeStatus {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    ...(details ? { details } : {}),
    code,
  };
}

export function sendStatus(res: ServerResponse, s: KubeStatus): void {
  sendJson(res, s.code, s);
}

/** `deployments.apps "web" not found`, as the apiserver words it. */
export function notFound(resource: string, group: string, name: string): KubeStatus {
  const qualified = group ? `${resource}.${group}` : resource;
  return statusOf(404, 'NotFound', `${qualified} "${name}" not found`, { name, group, kind: resource });
}

export function unsupportedMediaType(accepted: readonly string[]): KubeStatus {
  return statusOf(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function badRequest(message: string): KubeStatus {
  return statusOf(400, 'BadRequest', message);
}

/** A write against a stale metadata.resourceVersion (optimistic concurrency). */
export function conflict(resource: string, group: string, name: string): KubeStatus {
  const qualified = group ? `${resource}.${group}` : resource;
  return statusOf(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualified} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group, kind: resource },
  );
}

/** 422 Invalid: `kind` and `name` empty when the patch itself could not be decoded into the type. */
export function invalid(
  kind: string,
  group: string,
  name: string,
  causes: Array<{ field: string; message: string }>,
): KubeStatus {
  const qualified = group ? `${kind}.${group}` : kind;
  const reasons = causes.map((c) => `${c.field}: ${c.message}`);
  const joined = reasons.length === 1 ? reasons[0]! : `[${reasons.join(', ')}]`;
  return {
    ...statusOf(422, 'Invalid', `${qualified} "${name}" is invalid: ${joined}`),
    details: {
      name,
      group,
      kind,
      causes: causes.map((c) => ({ reason: 'FieldValueInvalid', message: c.message, field: c.field })),
    },
  };
}

/** A watch asked to resume from a resourceVersion older than the history kept. */
export function gone(requested: number, oldest: number): KubeStatus {
  return statusOf(410, 'Expired', `too old resource version: ${requested} (${oldest})`);
}
