import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Faults } from '../faults';
import { readBody, sendJson } from '../http';
import { AuditDevice, type AuditedRequest, type VaultAuditEntry, type VaultOperation } from './audit';
import { KvEngine } from './kv-engine';
import { handleKv, kvOperation, type Outcome } from './kv-routes';
import { listenWithListVerb } from './list-verb';
import type { JsonObject } from './merge-patch';
import { Tokens, type PolicyRule, type VaultTokenDef } from './tokens';
import { envelope, health, lookupSelf, mountInfo, parseBody, parseGoBool, queryData, tokenOf } from './wire';

export type { VaultAuditEntry } from './audit';
export type { PolicyRule, VaultTokenDef } from './tokens';

export interface VaultDoubleOptions {
  /** The bot's token: may do anything (display name "token", policy "default"). */
  token: string;
  port?: number;
  /** The KV v2 mount; default "secret". */
  mount?: string;
  /** More tokens with their own policies, e.g. the external-secrets operator's read-only one. */
  tokens?: VaultTokenDef[];
  /** Also write the audit log to this file, as Vault's file audit device does. */
  auditFile?: string;
}

export interface VaultDouble {
  url: string;
  /** TCP connections clients have opened to it (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received. */
  requestCount(): number;
  close(): Promise<void>;
  faults: Faults;
  /** The audit device's lines, oldest first (also served as JSON at `GET /_audit`). */
  auditLog: VaultAuditEntry[];
  /** Replaces a token's policy rules (undefined = allow everything). */
  setTokenRules(token: string, rules: PolicyRule[] | undefined): void;
  /** Writes a version directly (no token, no CAS, no audit), e.g. seed('api-credentials/x', {...}). */
  seed(path: string, data: Record<string, unknown>, opts?: { createdTime?: string }): void;
  current(path: string): { data: JsonObject; version: number; created_time: string } | undefined;
  /** How many versions were ever written at `path` (its current version number); 0 when absent. */
  versions(path: string): number;
  /** Requests as the server saw them: in flight now, the most ever in flight, and per path. */
  traffic: VaultTraffic;
}

export interface VaultTraffic {
  inFlight: number;
  maxInFlight: number;
  /** Requests per URL path (without the query), e.g. /v1/secret/data/api-credentials/x. */
  byPath: Map<string, number>;
  reset(): void;
}

/** Counts requests from arrival until their answer is sent (or the connection dies). */
function countingTraffic(handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>) {
  const traffic: VaultTraffic = {
    inFlight: 0,
    maxInFlight: 0,
    byPath: new Map(),
    reset() {
      traffic.maxInFlight = traffic.inFlight;
      traffic.byPath.clear();
    },
  };
  const counted = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0]!;
    traffic.byPath.set(path, (traffic.byPath.get(path) ?? 0) + 1);
    traffic.inFlight += 1;
    traffic.maxInFlight = Math.max(traffic.maxInFlight, traffic.inFlight);
    // Done at the first of 'finish' (the answer handed to the socket) or 'close' (the connection
    // died first), once: a client that reads its answer may send its next request before 'close'.
    let done = false;
    const settle = () => {
      if (!done) traffic.inFlight -= 1;
      done = true;
    };
    res.once('finish', settle);
    res.once('close', settle);
    await handle(req, res);
  };
  return { traffic, counted };
}

const MERGE_PATCH = 'application/merge-patch+json';
const BASE_OPERATION: Record<string, VaultOperation> = {
  GET: 'read',
  LIST: 'list',
  POST: 'update',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

/** A faithful-enough HashiCorp Vault (KV v2 on one mount, token auth, audit device) for tests and the demo. */
export async function createVaultDouble(opts: VaultDoubleOptions): Promise<VaultDouble> {
  const mount = (opts.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
  const faults = new Faults();
  const audit = new AuditDevice(opts.auditFile);
  const tokens = new Tokens([
    { token: opts.token, displayName: 'token', policies: ['default'] },
    ...(opts.tokens ?? []),
  ]);
  const engine = new KvEngine();
  const started = Date.now();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (await faults.apply(req, res)) return;
    const raw = await readBody(req);
    if (await faults.control(req, res, raw)) return;
    const url = new URL(req.url ?? '/', 'http://vault.invalid');
    const method = (req.method ?? 'GET').toUpperCase();

    if (url.pathname === '/_audit') {
      if (method === 'DELETE') audit.entries.length = 0;
      sendJson(res, 200, audit.entries);
      return;
    }
    if (url.pathname === '/v1/sys/health') {
      sendJson(res, 200, health(started));
      return;
    }
    if (!url.pathname.startsWith('/v1/')) {
      sendJson(res, 404, { errors: [] });
      return;
    }

    // Everything below mirrors http/logical.go: parse the request, then authenticate, then route.
    let path: string;
    try {
      path = decodeURIComponent(url.pathname.slice('/v1/'.length));
    } catch {
      return sendJson(res, 400, { errors: ['invalid URL escape'] });
    }
    let base = BASE_OPERATION[method];
    if (!base) return sendJson(res, 405, { errors: [] });
    const list = url.searchParams.get('list');
    if (method === 'GET' && list !== null && list !== '') {
      const flag = parseGoBool(list);
      if (flag === undefined) return sendJson(res, 400, { errors: [] });
      if (flag) base = 'list';
    }
    if (base === 'list' && !path.endsWith('/')) path += '/';
    if (method === 'PATCH') {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type === '') return sendJson(res, 400, { errors: ['mime: no media type'] });
      if (type !== MERGE_PATCH) {
        return sendJson(res, 415, {
          errors: [`PATCH requires Content-Type of ${MERGE_PATCH}, provided ${type}`],
        });
      }
    }
    const parsed = parseBody(method === 'GET' || method === 'DELETE' ? '' : raw);
    if (!parsed.ok) return sendJson(res, 400, { errors: ['error parsing JSON'] });

    const requestId = randomUUID();
    const token = tokenOf(req);
    const caller = tokens.lookup(token);
    const inMount = path.startsWith(`${mount}/`);
    const rest = inMount ? path.slice(mount.length + 1) : '';
    const entry: AuditedRequest = {
      id: requestId,
      operation: inMount ? kvOperation(engine, rest, base) : base,
      path,
      token,
      authenticated: caller !== undefined,
      ...(caller ? { displayName: caller.displayName, policies: caller.policies } : {}),
      data: parsed.body ?? queryData(url.searchParams),
      remoteAddress: req.socket.remoteAddress ?? '',
      remotePort: req.socket.remotePort,
      ...(inMount ? { mountType: 'kv', mountPoint: `${mount}/` } : {}),
      ...(path.startsWith('auth/token/') ? { mountType: 'token', mountPoint: 'auth/token/' } : {}),
    };
    audit.logRequest(entry);

    let outcome: Outcome;
    const uiMounts = /^sys\/internal\/ui\/mounts(?:\/(.*))?$/.exec(path);
    if (!caller) outcome = { status: 403, errors: ['permission denied'] };
    else if (path === 'auth/token/lookup-self' && base === 'read')
      outcome = { status: 200, data: lookupSelf(caller, started, audit.hash(`accessor:${caller.token}`)) };
    else if (uiMounts && base === 'read') outcome = mountPreflight(uiMounts[1] ?? '', caller);
    else if (inMount && !tokens.allowed(caller, path, entry.operation)) {
      outcome = { status: 403, errors: ['1 error occurred:\n\t* permission denied\n\n'] };
    } else if (inMount) {
      outcome = handleKv(engine, {
        rest,
        operation: entry.operation,
        query: url.searchParams,
        body: parsed.body,
      });
    } else outcome = { status: 404, errors: [`no handler for route "${path}". route entry not found.`] };

    audit.logResponse(entry, {
      ...(outcome.data ? { data: outcome.data } : {}),
      ...(outcome.errors?.length ? { error: outcome.errors.join('; ') } : {}),
    });
    if (outcome.status === 204) {
      res.writeHead(204);
      res.end();
    } else if (outcome.data) {
      sendJson(res, outcome.status, envelope(requestId, outcome.data, entry.mountType ?? ''));
    } else sendJson(res, outcome.status, { errors: outcome.errors ?? [] });
  }

  /** GET sys/internal/ui/mounts/<path>: the preflight of the `vault kv` commands (type and KV version). */
  function mountPreflight(target: string, caller: VaultTokenDef): Outcome {
    const info = mountInfo(mount, started);
    if (target === '') return { status: 200, data: { secret: { [`${mount}/`]: info }, auth: {} } };
    const sanitized = `${target.replace(/^\/+/, '').replace(/\/?$/, '/')}`;
    if (!sanitized.startsWith(`${mount}/`) || !tokens.canSeeMount(caller, `${mount}/`)) {
      return {
        status: 403,
        errors: [
          `preflight capability check returned 403, please ensure client's policies grant access to path "${sanitized}"`,
        ],
      };
    }
    return { status: 200, data: { ...info, path: `${mount}/` } };
  }

  const { traffic, counted } = countingTraffic(handle);
  const server = await listenWithListVerb(counted, opts.port ?? 0);
  const toJson = (data: Record<string, unknown>): JsonObject =>
    JSON.parse(JSON.stringify(data)) as JsonObject;
  return {
    url: server.url,
    connections: () => server.connections(),
    requestCount: () => server.requestCount(),
    close: () => server.close(),
    faults,
    auditLog: audit.entries,
    setTokenRules: (token, rules) => tokens.setRules(token, rules),
    seed: (path, data, seedOpts) => void engine.append(path, toJson(data), seedOpts?.createdTime),
    current: (path) => engine.current(path),
    versions: (path) => engine.versionCount(path),
    traffic,
  };
}
