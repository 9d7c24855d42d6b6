import NodeVault from 'node-vault';
import { isRotatorError, RotatorError } from '../../domain/errors';
import type { SecretStore, StoredCredential, StorePatch, StoreVersionWrite } from '../../domain/ports';
import { Secret } from '../../domain/secret';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from '../retry';
import { toStoreError, vaultStatus, type CallContext } from './vault-errors';
import { vaultTransport } from './vault-transport';
import {
  contains,
  fromKv,
  rawMetadata,
  toKvData,
  toKvPatch,
  valueFields,
  type FieldLayout,
  type KvData,
} from './vault-fields';

export interface VaultSecretStoreOptions {
  endpoint: string;
  token: string | Secret;
  /** The KV v2 mount; default "secret". */
  mount?: string;
  timeoutMs?: number;
  retry?: Partial<RetryOptions>;
  /** The fields a path keeps its value in, when not the runbook's api_key (e.g. an AWS key pair). */
  layoutOf?: (path: string) => FieldLayout | undefined;
}

interface KvVersion {
  data: KvData;
  version: number;
  createdTime: string;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * SecretStore on Vault KV v2 through node-vault: check-and-set on every write, JSON merge patch,
 * a timeout on each request and bounded retries for 5xx, timeouts and refused connections.
 */
export class VaultSecretStore implements SecretStore {
  private readonly client: NodeVault.client;
  private readonly mount: string;
  private readonly timeoutMs: number;
  private readonly retry: RetryOptions;
  private readonly layout: (path: string) => FieldLayout;
  /**
   * Per path, the metadata object of the version last read and when: a write with that version as
   * its check-and-set merges it without reading the version again (a version never changes, and the
   * CAS refuses the write if the path moved on). Metadata only, never a value.
   */
  private readonly lastMetadata = new Map<
    string,
    { version: number; metadata: Record<string, unknown>; at: number }
  >();

  constructor(opts: VaultSecretStoreOptions) {
    this.layout = (path) => opts.layoutOf?.(path) ?? valueFields(path);
    this.mount = (opts.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retry = { ...DEFAULT_RETRY, retryable: (e) => isRotatorError(e) && e.transient, ...opts.retry };
    this.client = NodeVault({
      endpoint: opts.endpoint,
      token: typeof opts.token === 'string' ? opts.token : opts.token.reveal(),
      // Node's HTTP parser rejects the LIST verb; GET ?list=1 is what real Vault also accepts.
      noCustomHTTPVerbs: true,
      requestOptions: { timeout: this.timeoutMs },
      // node-vault's debug output prints request bodies (the values): never let it.
      debug: () => undefined,
      // node's HTTP client on a keep-alive agent, not axios (see vaultTransport).
      'request-promise': vaultTransport(opts.endpoint),
      // Its JSON-schema check of each call only asks for a path and a method, which every call
      // here gives; typed as a function, used as an object with validate().
      tv4: Object.assign(() => true, { validate: () => true }),
    });
  }

  /** The KV field the value is read from at `path` (api_key, password, current_secret, …). */
  valueField(path: string): string {
    return this.layout(path).value;
  }

  /** Reads the current version (or `version`); undefined when the path or that version does not exist. */
  async read(path: string, version?: number): Promise<StoredCredential | undefined> {
    const found = await this.readVersion(path, version);
    return found && fromKv(path, found.data, found.version, found.createdTime, this.layout(path));
  }

  /** Writes exactly these fields as a new version with check-and-set `cas`, keeping the stored metadata merged in. */
  async write(path: string, data: StoreVersionWrite, cas: number): Promise<number> {
    const base = cas > 0 ? await this.metadataOf(path, cas) : {};
    const body = toKvData(path, data, base, this.layout(path));
    return this.send('write', path, cas, body, (full) =>
      this.client.write(full, { options: { cas }, data: body }),
    );
  }

  /** Applies a JSON merge patch to the current version with check-and-set `cas`; returns the new version. */
  async patch(path: string, patch: StorePatch, cas: number): Promise<number> {
    const body = toKvPatch(path, patch, this.layout(path));
    return this.send('patch', path, cas, body, (full) =>
      this.client.update(full, { options: { cas }, data: body }),
    );
  }

  /** Entry names directly below `folder` (folders end with "/"); [] when there are none. */
  async list(folder: string): Promise<string[]> {
    const trimmed = folder.replace(/^\/+/, '');
    const full = `${this.mount}/metadata/${encodePath(trimmed === '' || trimmed.endsWith('/') ? trimmed : `${trimmed}/`)}`;
    const ctx: CallContext = { operation: 'list', path: full, timeoutMs: this.timeoutMs };
    const body = await this.call(ctx, () => this.client.list(full), true);
    if (body === undefined) return [];
    const keys = isRecord(body) && isRecord(body['data']) ? body['data']['keys'] : undefined;
    if (!Array.isArray(keys)) throw unexpected(ctx);
    return keys.filter((k): k is string => typeof k === 'string');
  }

  private async metadataOf(path: string, version: number): Promise<Record<string, unknown>> {
    const known = this.lastMetadata.get(path);
    if (known && known.version === version && Date.now() - known.at < METADATA_TTL_MS) return known.metadata;
    return rawMetadata((await this.readVersion(path, version))?.data);
  }

  private dataPath(path: string): string {
    return `${this.mount}/data/${encodePath(path)}`;
  }

  private async readVersion(path: string, version?: number): Promise<KvVersion | undefined> {
    const full = this.dataPath(path);
    const ctx: CallContext = { operation: 'read', path: full, timeoutMs: this.timeoutMs };
    const query = version !== undefined && version > 0 ? `?version=${version}` : '';
    const body = await this.call(ctx, () => this.client.read(`${full}${query}`), true);
    if (body === undefined) return undefined;
    const data = isRecord(body) && isRecord(body['data']) ? body['data'] : undefined;
    const meta = data && isRecord(data['metadata']) ? data['metadata'] : undefined;
    if (!data || !isRecord(data['data']) || !meta || typeof meta['version'] !== 'number')
      throw unexpected(ctx);
    const createdTime = typeof meta['created_time'] === 'string' ? meta['created_time'] : '';
    // Kept briefly, so a path deleted and written anew is read again; bounded for the inventory's reads.
    if (this.lastMetadata.size >= 1_000) this.lastMetadata.clear();
    this.lastMetadata.set(path, {
      version: meta['version'],
      metadata: rawMetadata(data['data']),
      at: Date.now(),
    });
    return { data: data['data'], version: meta['version'], createdTime };
  }

  /**
   * A write or patch with retries. When a retried attempt meets a CAS conflict, the earlier attempt
   * may have landed before its answer was lost: if version cas+1 holds what was sent, that is success.
   */
  private async send(
    operation: 'write' | 'patch',
    path: string,
    cas: number,
    sent: KvData,
    request: (full: string) => Promise<unknown>,
  ): Promise<number> {
    const full = this.dataPath(path);
    const ctx: CallContext = { operation, path: full, cas, timeoutMs: this.timeoutMs };
    const body = await withRetry(async (attempt) => {
      try {
        return await request(full);
      } catch (e) {
        const err = toStoreError(e, ctx);
        if (attempt > 1 && err.code === 'store_conflict' && (await this.landed(path, cas + 1, sent))) {
          return { data: { version: cas + 1 } };
        }
        throw err;
      }
    }, this.retry);
    const version = isRecord(body) && isRecord(body['data']) ? body['data']['version'] : undefined;
    if (typeof version !== 'number') throw unexpected(ctx);
    return version;
  }

  private async landed(path: string, version: number, sent: KvData): Promise<boolean> {
    try {
      return contains((await this.readVersion(path, version))?.data, sent);
    } catch {
      return false; // cannot tell: report the conflict
    }
  }

  /** One call with retries; `notFoundIsEmpty` turns Vault's 404 into undefined. */
  private async call(
    ctx: CallContext,
    request: () => Promise<unknown>,
    notFoundIsEmpty: boolean,
  ): Promise<unknown> {
    return withRetry(async () => {
      try {
        return await request();
      } catch (e) {
        if (notFoundIsEmpty && vaultStatus(e) === 404) return undefined;
        throw toStoreError(e, ctx);
      }
    }, this.retry);
  }
}

/** How long a read version's metadata stands in for reading it again (a run's first minute). */
const METADATA_TTL_MS = 60_000;

function encodePath(path: string): string {
  return path
    .split('/')
    .map((s) => encodeURIComponent(s))
    .join('/');
}

function unexpected(ctx: CallContext): RotatorError {
  return new RotatorError('internal', `Vault answered ${ctx.operation} ${ctx.path} with an unexpected body`, {
    context: { operation: ctx.operation, path: ctx.path },
  });
}
