/**
 * Emergency rotation's incident model (pure): the reference, the scope assessment and the
 * incident record in the runbook's format. Ids, times, names and addresses only: never a value.
 */

/** `#inc-2024-0042` → `INC-2024-0042`; undefined when the channel is not an incident channel. */
export function incidentRefFromChannel(channelName: string, pattern: RegExp): string | undefined {
  const name = channelName.replace(/^#/, '');
  if (!pattern.test(name)) return undefined;
  const m = /(\d{4}-\d{1,6})$/.exec(name) ?? /(\d+)$/.exec(name);
  return m ? `INC-${m[1]}` : name.toUpperCase().slice(0, 64);
}

/** INC-2024-0042, as typed in a command (case-insensitive). */
export const INCIDENT_REF = /^INC-[A-Z0-9][A-Z0-9-]{0,40}$/i;

/** One use of a key at the issuer (its access log) or one Vault audit line on the credential's path. */
export interface ScopeEntry {
  time: string;
  source: 'issuer' | 'vault';
  /** issuer: the key id; vault: the operation (read, update, …). */
  what: string;
  remoteAddress?: string;
  /** Whether the address is one of the credential's known consumers. */
  known: boolean;
}

/** The runbook's "Assess scope": what the logs say about the compromised key and its path. */
export interface ScopeAssessment {
  status: 'pending' | 'done' | 'failed';
  startedAt: string;
  finishedAt?: string;
  /** The last issuer uses and the last 20 Vault operations, oldest first. */
  entries: ScopeEntry[];
  /** The earliest use not from a known consumer: the incident's earliest suspicious timestamp. */
  earliestSuspicious?: string;
  /** Sources that could not be read, and why (no value ever). */
  problems: string[];
}

/** Whether an address is one of the known ones: exact, or inside an IPv4 CIDR (10.0.0.0/8). */
export function isKnownAddress(address: string | undefined, known: string[]): boolean {
  if (!address) return false;
  const bare = address.replace(/^::ffff:/, '');
  return known.some((k) => (k.includes('/') ? inCidr(bare, k) : k === bare));
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const a = ipv4(ip);
  const b = ipv4(base ?? '');
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

function ipv4(s: string): number | undefined {
  const parts = s.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return parts.reduce((n, p) => ((n << 8) | p) >>> 0, 0);
}

/** The earliest issuer use not from a known consumer. */
export function earliestSuspicious(entries: ScopeEntry[]): string | undefined {
  return entries
    .filter((e) => e.source === 'issuer' && !e.known)
    .map((e) => e.time)
    .sort()[0];
}

/** The runbook's emergency incident record. */
export interface IncidentRecord {
  incident: string;
  credential: string;
  compromisedKeyIds: string[];
  newKeyId?: string;
  revokedAt?: string;
  deployedAt?: string;
  verification: 'complete' | 'pending';
  rotatedBy: string;
  earliestSuspicious?: string;
  scope: ScopeAssessment['status'] | 'not started';
}

/** The record as the runbook's incident-log.txt heredoc writes it, plus what the assessment found. */
export function formatIncidentRecord(r: IncidentRecord): string {
  return [
    'Emergency Credential Rotation',
    `Incident: ${r.incident}`,
    `Credential: ${r.credential}`,
    `Compromised key: ${r.compromisedKeyIds.join(', ') || 'unknown'}`,
    `Revoked: ${r.revokedAt ?? 'pending'}`,
    `New credential deployed: ${r.deployedAt ?? 'pending'}`,
    `Verification complete: [${r.verification}]`,
    `Rotated by: ${r.rotatedBy}`,
    `Earliest suspicious use: ${r.earliestSuspicious ?? (r.scope === 'done' ? 'none found' : `assessment ${r.scope}`)}`,
  ].join('\n');
}

/** What an emergency will do to one credential: shown before the responder's one deliberate click. */
export interface EmergencyTarget {
  credential: string;
  type: string;
  issuer: string;
  /** Keys that will be revoked at once (the store's current key, and a previous one still kept). */
  keysToRevoke: string[];
  /** Consumers that fail from the revocation until their restart picks up the new key. */
  failingUntilRestart: string[];
  /** Consumers that pick the new key up without a restart (dynamic, next scheduled job). */
  reloadingThemselves: string[];
  /** The runbook's deadline for this type, counted from the click (ms). */
  deadlineMs: number;
  /** A scheduled run that will be taken over. */
  takesOverRun?: string;
}

export interface EmergencyScope {
  targets: EmergencyTarget[];
  /** Names given that the catalog does not know: the whole request is refused. */
  unknown: string[];
}
