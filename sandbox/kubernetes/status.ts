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
  details?: { name?: string; group?: string; kind?: string };
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
