import { randomBytes } from 'node:crypto';

export type ProviderKeyStatus = 'active' | 'inactive' | 'revoked';

export interface ProviderKey {
  id: string;
  name: string;
  permissions: string[];
  value: string;
  status: ProviderKeyStatus;
  created: string;
  lastUsedAt?: string;
  /** Epoch ms of the DELETE; the key stays accepted for `revocationDelayMs` after it. */
  revokedAtMs?: number;
}

export interface AuditLogEntry {
  time: string;
  api_key_id: string;
  path: string;
  remote_address: string;
  outcome: 'ok' | 'rejected';
}

/** The key view the API and the test helpers expose: never the value. */
export interface KeyView {
  id: string;
  name: string;
  permissions: string[];
  status: ProviderKeyStatus;
  created: string;
  last_used_at: string | null;
}

export const newKeyId = (): string => `key_${randomBytes(12).toString('hex')}`;
export const newKeyValue = (): string => `pk_live_${randomBytes(20).toString('hex')}`;

/** In-memory state of the provider double: keys, their use, and the access log. */
export class KeyRegistry {
  /** How long a revoked key keeps being accepted (the runbook's propagation delay). */
  revocationDelayMs = 0;
  private readonly byId = new Map<string, ProviderKey>();
  private readonly log: AuditLogEntry[] = [];

  add(input: {
    id?: string;
    name: string;
    value?: string;
    permissions?: string[];
    createdAt?: Date;
  }): ProviderKey {
    const key: ProviderKey = {
      id: input.id ?? newKeyId(),
      name: input.name,
      permissions: input.permissions ?? ['read', 'write'],
      value: input.value ?? newKeyValue(),
      status: 'active',
      created: (input.createdAt ?? new Date()).toISOString(),
    };
    this.byId.set(key.id, key);
    return key;
  }

  get(id: string): ProviderKey | undefined {
    return this.byId.get(id);
  }

  all(): ProviderKey[] {
    return [...this.byId.values()];
  }

  /** False when the key is unknown or already revoked (a second DELETE is a 404). */
  revoke(id: string, nowMs = Date.now()): boolean {
    const key = this.byId.get(id);
    if (!key || key.status === 'revoked') return false;
    key.status = 'revoked';
    key.revokedAtMs = nowMs;
    return true;
  }

  private byValue(value: string): ProviderKey | undefined {
    return this.all().find((k) => k.value === value);
  }

  private acceptsKey(key: ProviderKey | undefined, nowMs: number): key is ProviderKey {
    if (!key) return false;
    if (key.status === 'active') return true;
    if (key.status === 'revoked' && key.revokedAtMs !== undefined) {
      return nowMs - key.revokedAtMs < this.revocationDelayMs;
    }
    return false;
  }

  /** Whether a call with this value would be accepted now; records nothing. */
  accepts(value: string, nowMs = Date.now()): boolean {
    return this.acceptsKey(this.byValue(value), nowMs);
  }

  /** A client calling with `value`: records last use and an access-log entry. */
  use(value: string, opts: { at?: Date; path?: string; remoteAddress?: string } = {}): boolean {
    const at = opts.at ?? new Date();
    const key = this.byValue(value);
    const ok = this.acceptsKey(key, Date.now());
    if (key) {
      if (ok) key.lastUsedAt = at.toISOString();
      this.log.push({
        time: at.toISOString(),
        api_key_id: key.id,
        path: opts.path ?? '/v1/test',
        remote_address: opts.remoteAddress ?? '127.0.0.1',
        outcome: ok ? 'ok' : 'rejected',
      });
    }
    return ok;
  }

  audit(filter: { apiKeyId?: string; since?: string }): AuditLogEntry[] {
    const sinceMs = filter.since ? Date.parse(filter.since) : Number.NaN;
    return this.log
      .filter((e) => !filter.apiKeyId || e.api_key_id === filter.apiKeyId)
      .filter((e) => Number.isNaN(sinceMs) || Date.parse(e.time) >= sinceMs)
      .sort((a, b) => a.time.localeCompare(b.time));
  }

  static view(key: ProviderKey): KeyView {
    return {
      id: key.id,
      name: key.name,
      permissions: [...key.permissions],
      status: key.status,
      created: key.created,
      last_used_at: key.lastUsedAt ?? null,
    };
  }
}
