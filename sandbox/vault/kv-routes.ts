import type { VaultOperation } from './audit';
import { KvError, type KvEngine } from './kv-engine';
import type { JsonObject } from './merge-patch';

/** The result of a logical request: an envelope's `data`, Vault's `errors`, or 204. */
export type Outcome =
  | { status: number; data: JsonObject; errors?: undefined }
  | { status: number; errors: string[]; data?: undefined }
  | { status: 204; data?: undefined; errors?: undefined };

export interface KvRequest {
  /** Path below the mount, e.g. "data/api-credentials/x" or "metadata/api-credentials/". */
  rest: string;
  operation: VaultOperation;
  query: URLSearchParams;
  body: JsonObject | undefined;
}

/** Splits "data/x" into its endpoint and key; a data key may not end with "/" (Vault's pattern). */
function endpointOf(rest: string): { endpoint: 'data' | 'metadata'; key: string } | undefined {
  for (const endpoint of ['data', 'metadata'] as const) {
    if (rest.startsWith(`${endpoint}/`)) return { endpoint, key: rest.slice(endpoint.length + 1) };
  }
  return undefined;
}

/** Vault turns an update of a missing key into `create` (the existence check) before auditing. */
export function kvOperation(engine: KvEngine, rest: string, base: VaultOperation): VaultOperation {
  const ep = endpointOf(rest);
  if (base === 'update' && ep?.endpoint === 'data' && !engine.exists(ep.key)) return 'create';
  return base;
}

const unsupportedPath: Outcome = { status: 404, errors: ['1 error occurred:\n\t* unsupported path\n\n'] };
const unsupportedOperation: Outcome = {
  status: 405,
  errors: ['1 error occurred:\n\t* unsupported operation\n\n'],
};

/** KV v2's data/ and metadata/ endpoints over the in-memory engine. */
export function handleKv(engine: KvEngine, req: KvRequest): Outcome {
  const ep = endpointOf(req.rest);
  if (!ep) return unsupportedPath;
  try {
    return ep.endpoint === 'data' ? dataEndpoint(engine, ep.key, req) : metadataEndpoint(engine, ep.key, req);
  } catch (e) {
    if (!(e instanceof KvError)) throw e;
    return e.body ? { status: e.status, data: e.body } : { status: e.status, errors: e.errors };
  }
}

function dataEndpoint(engine: KvEngine, key: string, req: KvRequest): Outcome {
  if (key === '' || key.endsWith('/')) return unsupportedPath;
  switch (req.operation) {
    case 'read': {
      const version = Number(req.query.get('version') ?? '0');
      return { status: 200, data: engine.read(key, Number.isInteger(version) ? version : 0) };
    }
    case 'create':
    case 'update':
      return { status: 200, data: engine.write(key, req.body) };
    case 'patch':
      return { status: 200, data: engine.patch(key, req.body) };
    case 'delete':
      engine.deleteLatest(key);
      return { status: 204 };
    default:
      return unsupportedOperation;
  }
}

function metadataEndpoint(engine: KvEngine, key: string, req: KvRequest): Outcome {
  switch (req.operation) {
    case 'list':
      return { status: 200, data: { keys: engine.list(key) } };
    case 'read':
      return { status: 200, data: engine.metadata(key) };
    case 'delete':
      engine.deleteAll(key);
      return { status: 204 };
    default:
      return unsupportedOperation;
  }
}
