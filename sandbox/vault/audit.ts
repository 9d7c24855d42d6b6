import { createHmac, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Json } from './merge-patch';

export type VaultOperation = 'create' | 'update' | 'patch' | 'read' | 'list' | 'delete';

/** One line of Vault's file audit device (the subset this double writes). */
export interface VaultAuditEntry {
  type: 'request' | 'response';
  time: string;
  auth: {
    client_token: string;
    accessor: string;
    display_name: string;
    policies: string[];
    token_type: string;
  };
  request: {
    id: string;
    operation: VaultOperation;
    mount_type?: string;
    mount_point?: string;
    client_token: string;
    namespace: { id: string };
    path: string;
    data?: Json;
    remote_address: string;
    remote_port?: number;
  };
  response?: { mount_type?: string; data?: Json };
  error?: string;
}

/** What the HTTP layer knows about one request, before hashing. */
export interface AuditedRequest {
  id: string;
  operation: VaultOperation;
  path: string;
  token: string;
  authenticated: boolean;
  /** The token's display name and policies, when it is a known token. */
  displayName?: string;
  policies?: string[];
  mountType?: string;
  mountPoint?: string;
  data?: Json;
  remoteAddress: string;
  remotePort?: number;
}

/**
 * Vault's audit broker: every string in request and response data (and the token) is replaced by
 * `hmac-sha256:<hex>` with a per-device salt, so the log proves what happened without holding values.
 * With a file, it is also Vault's file audit device: one JSON object per line, appended as it happens.
 */
export class AuditDevice {
  readonly entries: VaultAuditEntry[] = [];
  private readonly salt = randomBytes(32);

  constructor(private readonly file?: string) {
    if (file) mkdirSync(dirname(file), { recursive: true });
  }

  hash(value: string): string {
    return `hmac-sha256:${createHmac('sha256', this.salt).update(value).digest('hex')}`;
  }

  /** Recursively hashes every string value; keys and non-string scalars stay readable. */
  hashStructure(value: Json): Json {
    if (typeof value === 'string') return this.hash(value);
    if (Array.isArray(value)) return value.map((v) => this.hashStructure(v));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.hashStructure(v)]));
    }
    return value;
  }

  logRequest(req: AuditedRequest): void {
    this.write({ type: 'request', ...this.common(req) });
  }

  logResponse(req: AuditedRequest, outcome: { data?: Json; error?: string }): void {
    const entry: VaultAuditEntry = { type: 'response', ...this.common(req) };
    entry.response = { mount_type: req.mountType ?? '' };
    if (outcome.data !== undefined) entry.response.data = this.hashStructure(outcome.data);
    if (outcome.error !== undefined) entry.error = outcome.error;
    this.write(entry);
  }

  private write(entry: VaultAuditEntry): void {
    this.entries.push(entry);
    // Synchronous, like a blocking audit device: the line is there before the client has its answer.
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`, { mode: 0o600 });
  }

  private common(req: AuditedRequest): Omit<VaultAuditEntry, 'type'> {
    const token = req.token === '' ? '' : this.hash(req.token);
    const request: VaultAuditEntry['request'] = {
      id: req.id,
      operation: req.operation,
      client_token: token,
      namespace: { id: 'root' },
      path: req.path,
      remote_address: req.remoteAddress,
    };
    if (req.mountType !== undefined) request.mount_type = req.mountType;
    if (req.mountPoint !== undefined) request.mount_point = req.mountPoint;
    if (req.data !== undefined) request.data = this.hashStructure(req.data);
    if (req.remotePort !== undefined) request.remote_port = req.remotePort;
    return {
      time: new Date().toISOString(),
      auth: req.authenticated
        ? {
            client_token: token,
            accessor: this.hash(`accessor:${req.token}`),
            display_name: req.displayName ?? 'token',
            policies: req.policies ?? ['default'],
            token_type: 'service',
          }
        : { client_token: token, accessor: '', display_name: '', policies: [], token_type: 'default' },
      request,
    };
  }
}
