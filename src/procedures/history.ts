import type { AuditEntry, AuditLog } from '../domain/ports';
import type { Procedure, RunOutcome } from '../domain/run';

/** One past or current run of a credential, as the audit trail tells it. No values. */
export interface RunHistoryEntry {
  runId: string;
  procedure: Procedure;
  /** Undefined while the run has not finished. */
  outcome?: RunOutcome;
  /** Audit identities, e.g. slack:U0ALICE, cli:alice. */
  requester?: string;
  approver?: string;
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  /** KV versions the run wrote (new value, record, restored value), ascending. */
  versions: number[];
  incident?: string;
}

/** Audit entries read to find the runs (about twenty per run). */
const AUDIT_WINDOW = 2_000;
/** The steps that write a KV version, and whose completion detail names it ("… version 5 …"). */
const WRITING_STEPS = new Set(['store-new', 'record', 'restore-previous']);
const OUTCOMES: readonly RunOutcome[] = ['succeeded', 'rolled_back', 'failed', 'refused'];

type Timed = AuditEntry & { time: string };

function procedureOf(entries: Timed[]): Procedure {
  if (entries.some((e) => e.action === 'emergency.started')) return 'emergency';
  const requested = entries.find((e) => e.action === 'run.requested');
  const mode = /^(resume|rollback) of /.exec(requested?.detail ?? '')?.[1];
  return (mode as Procedure | undefined) ?? 'scheduled';
}

/** One run's entries (any order) → its history line. */
function entryOf(runId: string, entries: Timed[]): RunHistoryEntry {
  const times = entries.map((e) => e.time).sort();
  const start = entries.find((e) => e.action === 'run.requested' || e.action === 'emergency.started');
  const finished = entries.find((e) => e.action === 'run.finished');
  const outcome = OUTCOMES.find((o) => finished?.detail?.startsWith(o));
  const approver = /approved by (\S+)/.exec(start?.detail ?? '')?.[1];
  const incident = /^incident (\S+)/.exec(
    start?.action === 'emergency.started' ? (start.detail ?? '') : '',
  )?.[1];
  const versions = new Set<number>();
  for (const e of entries) {
    if (e.action !== 'step.completed' || !WRITING_STEPS.has(e.step ?? '')) continue;
    const v = /\bversion (\d+)/.exec(e.detail ?? '')?.[1];
    if (v) versions.add(Number(v));
  }
  const startedAt = start?.time ?? times[0]!;
  return {
    runId,
    procedure: procedureOf(entries),
    ...(outcome ? { outcome } : {}),
    ...(start ? { requester: start.identity } : {}),
    ...(approver ? { approver } : {}),
    startedAt,
    ...(finished
      ? { finishedAt: finished.time, durationMs: Date.parse(finished.time) - Date.parse(startedAt) }
      : {}),
    versions: [...versions].sort((a, b) => a - b),
    ...(incident ? { incident } : {}),
  };
}

/**
 * A credential's recent runs from the audit trail, most recent first: procedure, outcome,
 * requester, approver, start, duration and the Vault versions each produced.
 */
export async function runHistory(
  audit: Pick<AuditLog, 'recent'>,
  credential: string,
  limit = 10,
): Promise<RunHistoryEntry[]> {
  const entries = await audit.recent({ credential, limit: AUDIT_WINDOW });
  const byRun = new Map<string, Timed[]>();
  for (const e of entries) {
    if (!e.runId) continue;
    const list = byRun.get(e.runId) ?? [];
    list.push(e);
    byRun.set(e.runId, list);
  }
  return [...byRun]
    .map(([runId, list]) => entryOf(runId, list))
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
    .slice(0, limit);
}
