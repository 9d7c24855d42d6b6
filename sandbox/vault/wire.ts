import type { IncomingMessage } from 'node:http';
import { isJsonObject, type Json, type JsonObject } from './merge-patch';

/** Vault's success envelope around a logical response's data. */
export function envelope(requestId: string, data: JsonObject, mountType: string): JsonObject {
  return {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: null,
    auth: null,
    mount_type: mountType,
  };
}

/** Parses a body the way Vault's parseJSONRequest does: empty = no data; anything but an object = 400. */
export function parseBody(raw: string): { ok: true; body: JsonObject | undefined } | { ok: false } {
  if (raw.trim() === '') return { ok: true, body: undefined };
  try {
    const parsed = JSON.parse(raw) as Json;
    return isJsonObject(parsed) ? { ok: true, body: parsed } : { ok: false };
  } catch {
    return { ok: false };
  }
}

/** Vault accepts the token as X-Vault-Token or as a Bearer authorization. */
export function tokenOf(req: IncomingMessage): string {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') return header;
  const auth = req.headers.authorization ?? '';
  return auth.toLowerCase().startsWith('bearer ') ? auth.slice('bearer '.length).trim() : '';
}

/** Go's strconv.ParseBool, which Vault uses for `?list=`. */
export function parseGoBool(s: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(s)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(s)) return false;
  return undefined;
}

/** GET parameters as the request data Vault audits (list excluded). */
export function queryData(query: URLSearchParams): JsonObject | undefined {
  const data: JsonObject = {};
  for (const [k, v] of query) if (k !== 'list') data[k] = v;
  return Object.keys(data).length > 0 ? data : undefined;
}

/** sys/health of an initialised, unsealed, active node. */
export function health(started: number): JsonObject {
  return {
    initialized: true,
    sealed: false,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(Date.now() / 1000),
    version: '1.17.0',
    enterprise: false,
    cluster_name: 'vault-double',
    cluster_id: `double-${started}`,
  };
}

/** sys/internal/ui/mounts' mountInfo for the KV v2 mount. */
export function mountInfo(mount: string, started: number): JsonObject {
  return {
    accessor: `kv_${started.toString(16).slice(-8)}`,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description: 'key/value secret storage',
    external_entropy_access: false,
    local: false,
    options: { version: '2' },
    plugin_version: '',
    running_plugin_version: 'v0.20.0+builtin',
    running_sha256: '',
    seal_wrap: false,
    type: 'kv',
    uuid: `00000000-0000-4000-8000-${started.toString(16).padStart(12, '0').slice(-12)}`,
    path: `${mount}/`,
  };
}

/** GET auth/token/lookup-self's data for a token of the double. */
export function lookupSelf(
  caller: { token: string; displayName: string; policies: string[] },
  started: number,
  accessor: string,
): JsonObject {
  const token = caller.token;
  return {
    accessor,
    creation_time: Math.floor(started / 1000),
    creation_ttl: 0,
    display_name: caller.displayName,
    entity_id: '',
    expire_time: null,
    explicit_max_ttl: 0,
    id: token,
    issue_time: new Date(started).toISOString(),
    meta: null,
    num_uses: 0,
    orphan: true,
    path: 'auth/token/create',
    policies: caller.policies,
    renewable: false,
    ttl: 0,
    type: 'service',
  };
}
