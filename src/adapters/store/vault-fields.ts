import type { StoredCredential, StoredMetadata, StorePatch, StoreVersionWrite } from '../../domain/ports';
import { Secret } from '../../domain/secret';

/** The KV v2 data of one version, as Vault stores it. */
export type KvData = Record<string, unknown>;

/** Which KV fields hold the value, the previous value and their key ids. */
export interface FieldLayout {
  value: string;
  previous: string;
  keyId: string;
  previousKeyId: string;
}

const KEY_IDS = { keyId: 'api_key_id', previousKeyId: 'previous_key_id' };

/** AWS access keys keep the pair under AWS's own names (what `aws configure` and the SDKs read). */
export const AWS_ACCESS_KEY_FIELDS: FieldLayout = {
  value: 'secret_access_key',
  previous: 'previous_secret_access_key',
  keyId: 'access_key_id',
  previousKeyId: 'previous_access_key_id',
};

/**
 * Webhook secrets keep the runbook's current_secret/previous_secret, database logins
 * password/previous_password (with `username` beside); everything else api_key/previous_key.
 */
export function valueFields(path: string): FieldLayout {
  if (path.startsWith('webhooks/'))
    return { value: 'current_secret', previous: 'previous_secret', ...KEY_IDS };
  if (path.startsWith('database-credentials/'))
    return { value: 'password', previous: 'previous_password', ...KEY_IDS };
  return { value: 'api_key', previous: 'previous_key', ...KEY_IDS };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function defined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The runbook's metadata object, keeping only fields of the expected type. */
export function parseMetadata(v: unknown): StoredMetadata | undefined {
  if (!isRecord(v)) return undefined;
  const consumers = Array.isArray(v['consumers'])
    ? v['consumers'].filter((c): c is string => typeof c === 'string')
    : undefined;
  return defined({
    issuer: str(v['issuer']),
    consumers,
    rotation_contact: str(v['rotation_contact']),
    last_rotated: str(v['last_rotated']),
  });
}

/** The raw `metadata` object of a version (every key kept), for merging on write. */
export function rawMetadata(data: KvData | undefined): Record<string, unknown> {
  const m = data?.['metadata'];
  return isRecord(m) ? m : {};
}

/** A full new version: exactly the given fields, with metadata merged over the previous version's. */
export function toKvData(
  path: string,
  w: StoreVersionWrite,
  baseMetadata: Record<string, unknown>,
  f: FieldLayout = valueFields(path),
): KvData {
  const metadata = { ...baseMetadata, ...defined(w.metadata ?? {}) };
  return defined({
    [f.value]: w.value.reveal(),
    [f.previous]: w.previousValue?.reveal() ?? '',
    [f.keyId]: w.keyId,
    [f.previousKeyId]: w.previousKeyId,
    username: w.username,
    rotated_at: w.rotatedAt,
    rotated_by: w.rotatedBy,
    emergency_rotation: w.emergencyRotation === undefined ? undefined : String(w.emergencyRotation),
    incident_reference: w.incidentReference,
    rotation_run_id: w.runId,
    metadata: Object.keys(metadata).length > 0 ? metadata : undefined,
  });
}

/** A JSON merge patch: metadata merges key by key; clearPrevious blanks previous value and id. */
export function toKvPatch(path: string, p: StorePatch, f: FieldLayout = valueFields(path)): KvData {
  return defined({
    ...(p.clearPrevious ? { [f.previous]: '', [f.previousKeyId]: '' } : {}),
    rotation_verified_at: p.rotationVerifiedAt,
    metadata: p.metadata ? defined(p.metadata) : undefined,
  });
}

/** One KV v2 version as the domain sees it; "" means absent, values come back wrapped. */
export function fromKv(
  path: string,
  data: KvData,
  version: number,
  createdTime: string,
  f: FieldLayout = valueFields(path),
): StoredCredential {
  const value = str(data[f.value]);
  const previous = str(data[f.previous]);
  const emergency = data['emergency_rotation'];
  return {
    path,
    version,
    createdTime,
    ...defined({
      value: value === undefined ? undefined : new Secret(value),
      previousValue: previous === undefined ? undefined : new Secret(previous),
      keyId: str(data[f.keyId]),
      previousKeyId: str(data[f.previousKeyId]),
      username: str(data['username']),
      rotatedAt: str(data['rotated_at']),
      rotatedBy: str(data['rotated_by']),
      rotationVerifiedAt: str(data['rotation_verified_at']),
      emergencyRotation:
        emergency === true || emergency === 'true'
          ? true
          : emergency === false || emergency === 'false'
            ? false
            : undefined,
      incidentReference: str(data['incident_reference']),
      runId: str(data['rotation_run_id']),
      metadata: parseMetadata(data['metadata']),
    }),
  };
}

/** Whether every field of `sent` is in `stored` with the same value (objects compared recursively). */
export function contains(stored: unknown, sent: unknown): boolean {
  if (isRecord(sent)) {
    return isRecord(stored) && Object.entries(sent).every(([k, v]) => contains(stored[k], v));
  }
  if (Array.isArray(sent)) {
    return (
      Array.isArray(stored) && stored.length === sent.length && sent.every((v, i) => contains(stored[i], v))
    );
  }
  return stored === sent;
}
