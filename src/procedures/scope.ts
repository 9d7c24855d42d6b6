import { open } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { CredentialSpec } from '../domain/credential';
import { safeMessage } from '../domain/errors';
import {
  earliestSuspicious,
  isKnownAddress,
  type ScopeAssessment,
  type ScopeEntry,
} from '../domain/incident';
import type { Clock, IncidentChannel, Issuer, SecretStore } from '../domain/ports';
import type { Run } from '../domain/run';
import type { RunStore } from '../queue/run-store';

export interface ScopeDeps {
  runs: RunStore;
  catalog: Map<string, CredentialSpec>;
  store: SecretStore;
  issuerFor: (spec: CredentialSpec) => Issuer;
  incidents?: IncidentChannel;
  clock: Clock;
  logger: Logger;
  /** The KV v2 mount, to match the audit log's request paths. */
  mount: string;
  /** A Vault file audit device's log, if one is readable from here. */
  vaultAuditLog?: string;
}

/** The audit log's tail is read, not the whole file: a busy Vault writes gigabytes. */
const AUDIT_TAIL_BYTES = 4 * 1024 * 1024;
const VAULT_ENTRIES = 20;
const ISSUER_ENTRIES = 50;

/**
 * The runbook's "Assess scope", beside the emergency run and never blocking it: the issuer's access
 * log for each compromised key, and the last Vault operations on the credential's path. The
 * earliest use from an address that is not a known consumer is the earliest suspicious timestamp.
 */
export async function assessRunScope(deps: ScopeDeps, runId: string): Promise<ScopeAssessment | undefined> {
  const run = await deps.runs.get(runId);
  const spec = run && deps.catalog.get(run.credential);
  if (!run || !spec) return undefined;
  const scope: ScopeAssessment = {
    status: 'pending',
    startedAt: deps.clock.now().toISOString(),
    entries: [],
    problems: [],
  };
  await deps.runs.saveScope(run.id, scope);
  const known = spec.knownAddresses ?? [];
  const [issuer, vault] = await Promise.all([
    issuerUses(deps, run, spec, known),
    vaultOperations(deps, spec),
  ]);
  scope.entries = [...issuer.entries, ...vault.entries].sort((a, b) => a.time.localeCompare(b.time));
  scope.problems = [...issuer.problems, ...vault.problems];
  const earliest = earliestSuspicious(scope.entries);
  if (earliest) scope.earliestSuspicious = earliest;
  scope.status = issuer.problems.length > 0 && issuer.entries.length === 0 ? 'failed' : 'done';
  scope.finishedAt = deps.clock.now().toISOString();
  await deps.runs.saveScope(run.id, scope);
  await deps.incidents?.escalate(run, { text: scopeSummary(spec.name, scope), once: 'escalation:scope' });
  return scope;
}

async function issuerUses(
  deps: ScopeDeps,
  run: Run,
  spec: CredentialSpec,
  known: string[],
): Promise<{ entries: ScopeEntry[]; problems: string[] }> {
  const issuer = deps.issuerFor(spec);
  if (!issuer.usage) return { entries: [], problems: [`${spec.issuer.name} has no access log to query`] };
  const since = await keySince(deps, spec, run);
  const entries: ScopeEntry[] = [];
  const problems: string[] = [];
  for (const keyId of run.facts.compromisedKeyIds ?? []) {
    try {
      const uses = await issuer.usage(keyId, since);
      entries.push(
        ...uses.slice(-ISSUER_ENTRIES).map((u) => ({
          time: u.time,
          source: 'issuer' as const,
          what: u.keyId,
          ...(u.remoteAddress ? { remoteAddress: u.remoteAddress } : {}),
          known: isKnownAddress(u.remoteAddress, known),
        })),
      );
    } catch (e) {
      problems.push(`${spec.issuer.name} access log for ${keyId}: ${safeMessage(e)}`);
    }
  }
  return { entries, problems };
}

/** Since when the compromised key could have been used: its version's rotation time. */
async function keySince(deps: ScopeDeps, spec: CredentialSpec, run: Run): Promise<Date> {
  const fallback = new Date(deps.clock.now().getTime() - 365 * 86_400_000);
  if (!run.facts.baseVersion) return fallback;
  try {
    const base = await deps.store.read(spec.store, run.facts.baseVersion);
    const at = Date.parse(base?.rotatedAt ?? base?.createdTime ?? '');
    return Number.isNaN(at) ? fallback : new Date(at);
  } catch {
    return fallback;
  }
}

async function vaultOperations(
  deps: ScopeDeps,
  spec: CredentialSpec,
): Promise<{ entries: ScopeEntry[]; problems: string[] }> {
  if (!deps.vaultAuditLog) return { entries: [], problems: [] };
  const paths = new Set([`${deps.mount}/data/${spec.store}`, `${deps.mount}/${spec.store}`]);
  try {
    const lines = await tail(deps.vaultAuditLog, AUDIT_TAIL_BYTES);
    const entries: ScopeEntry[] = [];
    for (const line of lines) {
      const e = parseAuditLine(line);
      if (!e || e.type !== 'request' || !paths.has(e.path)) continue;
      entries.push({
        time: e.time,
        source: 'vault',
        what: e.operation,
        ...(e.remoteAddress ? { remoteAddress: e.remoteAddress } : {}),
        known: isKnownAddress(e.remoteAddress, spec.knownAddresses ?? []),
      });
    }
    return { entries: entries.slice(-VAULT_ENTRIES), problems: [] };
  } catch (e) {
    return {
      entries: [],
      problems: [`Vault audit log: ${(e as NodeJS.ErrnoException).code ?? 'unreadable'}`],
    };
  }
}

interface AuditLine {
  type: string;
  time: string;
  path: string;
  operation: string;
  remoteAddress?: string;
}

/** One line of Vault's file audit device; only the fields the runbook's jq selects. */
function parseAuditLine(line: string): AuditLine | undefined {
  try {
    const o = JSON.parse(line) as {
      type?: unknown;
      time?: unknown;
      request?: { path?: unknown; operation?: unknown; remote_address?: unknown };
    };
    const r = o.request;
    if (typeof o.type !== 'string' || typeof o.time !== 'string' || typeof r?.path !== 'string')
      return undefined;
    return {
      type: o.type,
      time: o.time,
      path: r.path,
      operation: typeof r.operation === 'string' ? r.operation : '?',
      ...(typeof r.remote_address === 'string' ? { remoteAddress: r.remote_address } : {}),
    };
  } catch {
    return undefined;
  }
}

/** The complete lines in the last `bytes` of a file. */
async function tail(path: string, bytes: number): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    const start = Math.max(0, size - bytes);
    const buf = Buffer.alloc(size - start);
    await fh.read(buf, 0, buf.length, start);
    const lines = buf.toString('utf8').split('\n');
    if (start > 0) lines.shift(); // a partial first line
    return lines.filter(Boolean);
  } finally {
    await fh.close();
  }
}

function scopeSummary(credential: string, s: ScopeAssessment): string {
  const uses = s.entries.filter((e) => e.source === 'issuer');
  const strangers = [...new Set(uses.filter((e) => !e.known).map((e) => e.remoteAddress ?? '?'))];
  const ops = s.entries.filter((e) => e.source === 'vault').length;
  const lines = [
    `🔎 Scope of \`${credential}\`: ${uses.length} use(s) of the compromised key in the access log, ${ops} recent Vault operation(s) on its path.`,
    s.earliestSuspicious
      ? `Earliest suspicious use: ${s.earliestSuspicious} from ${strangers.join(', ')}.`
      : 'No use from an address outside the known consumers.',
    ...s.problems.map((p) => `Could not read: ${p}`),
  ];
  return lines.join('\n');
}
