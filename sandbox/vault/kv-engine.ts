import { isJsonObject, mergePatch, type JsonObject } from './merge-patch';

/** A refusal, rendered by the HTTP layer as `{"errors":[…]}` (or as `body` when Vault sends data). */
export class KvError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
    readonly body?: JsonObject,
  ) {
    super(errors[0] ?? `status ${status}`);
  }
}

interface VersionRecord {
  data: JsonObject;
  created_time: string;
  deletion_time: string;
  destroyed: boolean;
}

interface KeyRecord {
  versions: Map<number, VersionRecord>;
  current: number;
  oldest: number;
  created_time: string;
  updated_time: string;
}

/** What POST/PATCH on data/ answer (and what a read returns as `metadata`). */
export interface VersionMetadata extends JsonObject {
  created_time: string;
  custom_metadata: null;
  deletion_time: string;
  destroyed: boolean;
  version: number;
}

const DEFAULT_MAX_VERSIONS = 10; // Vault keeps 10 versions when max_versions is 0

/** Vault's KV v2 backend in memory: versions, check-and-set, merge patch, list, metadata. */
export class KvEngine {
  private readonly keys = new Map<string, KeyRecord>();

  constructor(private readonly now: () => string = () => new Date().toISOString()) {}

  exists(path: string): boolean {
    return this.keys.has(path);
  }

  read(path: string, version?: number): { data: JsonObject | null; metadata: VersionMetadata } {
    const key = this.keys.get(path);
    const n = version && version > 0 ? version : key?.current;
    const v = n === undefined ? undefined : key?.versions.get(n);
    if (!v || n === undefined) throw new KvError(404, []);
    const metadata = versionMetadata(v, n);
    // A deleted or destroyed version answers 404 with its metadata, as Vault does.
    if (v.deletion_time !== '' || v.destroyed) {
      throw new KvError(404, [], { data: null, metadata });
    }
    return { data: structuredClone(v.data), metadata };
  }

  write(path: string, body: JsonObject | undefined): VersionMetadata {
    const data = requireData(body);
    const key = this.keys.get(path);
    checkCas(body, key?.current ?? 0);
    return this.append(path, data);
  }

  patch(path: string, body: JsonObject | undefined): VersionMetadata {
    const patch = requireData(body);
    const key = this.keys.get(path);
    if (!key) throw new KvError(404, []);
    checkCas(body, key.current);
    const current = key.versions.get(key.current);
    if (!current || current.deletion_time !== '' || current.destroyed) throw new KvError(404, []);
    const merged = mergePatch(current.data, patch);
    return this.append(path, isJsonObject(merged) ? merged : {});
  }

  /** Names directly below `folder` ("" = the mount root); folders end with "/". */
  list(folder: string): string[] {
    const prefix = folder === '' || folder.endsWith('/') ? folder : `${folder}/`;
    const names = new Set<string>();
    for (const path of this.keys.keys()) {
      if (!path.startsWith(prefix)) continue;
      const rest = path.slice(prefix.length);
      const slash = rest.indexOf('/');
      names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
    }
    names.delete('');
    if (names.size === 0) throw new KvError(404, []);
    return [...names].sort();
  }

  metadata(path: string): JsonObject {
    const key = this.keys.get(path);
    if (!key) throw new KvError(404, []);
    const versions: JsonObject = {};
    for (const [n, v] of key.versions) {
      versions[String(n)] = {
        created_time: v.created_time,
        deletion_time: v.deletion_time,
        destroyed: v.destroyed,
      };
    }
    return {
      cas_required: false,
      created_time: key.created_time,
      current_version: key.current,
      custom_metadata: null,
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: key.oldest,
      updated_time: key.updated_time,
      versions,
    };
  }

  /** DELETE data/: soft-deletes the latest version. */
  deleteLatest(path: string): void {
    const key = this.keys.get(path);
    const v = key?.versions.get(key.current);
    if (v && v.deletion_time === '' && !v.destroyed) v.deletion_time = this.now();
  }

  /** DELETE metadata/: removes the key and every version. */
  deleteAll(path: string): void {
    this.keys.delete(path);
  }

  /** Appends a version without any check (sandbox seeding). */
  append(path: string, data: JsonObject, createdTime = this.now()): VersionMetadata {
    let key = this.keys.get(path);
    if (!key) {
      key = {
        versions: new Map(),
        current: 0,
        oldest: 0,
        created_time: createdTime,
        updated_time: createdTime,
      };
      this.keys.set(path, key);
    }
    const v: VersionRecord = {
      data: structuredClone(data),
      created_time: createdTime,
      deletion_time: '',
      destroyed: false,
    };
    key.current += 1;
    key.versions.set(key.current, v);
    key.updated_time = createdTime;
    if (key.current - key.oldest >= DEFAULT_MAX_VERSIONS) {
      const drop = key.current - DEFAULT_MAX_VERSIONS;
      for (let i = key.oldest; i <= drop; i++) key.versions.delete(i);
      key.oldest = drop + 1;
    }
    return versionMetadata(v, key.current);
  }

  /** The current version as stored (deleted or not); undefined when the key does not exist. */
  current(path: string): { data: JsonObject; version: number; created_time: string } | undefined {
    const key = this.keys.get(path);
    const v = key?.versions.get(key.current);
    if (!key || !v) return undefined;
    return { data: structuredClone(v.data), version: key.current, created_time: v.created_time };
  }

  /** How many versions were ever written (the current version number); 0 when absent. */
  versionCount(path: string): number {
    return this.keys.get(path)?.current ?? 0;
  }
}

function versionMetadata(v: VersionRecord, version: number): VersionMetadata {
  return {
    created_time: v.created_time,
    custom_metadata: null,
    deletion_time: v.deletion_time,
    destroyed: v.destroyed,
    version,
  };
}

function requireData(body: JsonObject | undefined): JsonObject {
  const data = body?.['data'];
  if (data === undefined || data === null) throw new KvError(400, ['no data provided']);
  if (!isJsonObject(data)) throw new KvError(400, ['error converting input for field "data"']);
  return data;
}

/** validateCheckAndSetOption: absent = unconditional; otherwise must equal the current version. */
function checkCas(body: JsonObject | undefined, current: number): void {
  const options = body?.['options'];
  if (options === undefined || options === null) return;
  if (!isJsonObject(options)) throw new KvError(400, ['error converting input for field "options"']);
  const raw = options['cas'];
  if (raw === undefined) return;
  const cas = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof cas !== 'number' || !Number.isInteger(cas)) {
    throw new KvError(400, ['error parsing check-and-set parameter']);
  }
  if (cas !== current) throw new KvError(400, ['check-and-set parameter did not match the current version']);
}
