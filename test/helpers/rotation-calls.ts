import { Queue } from 'bullmq';
import type { Run } from '../../src/domain/run';
import { MAINTENANCE_QUEUE, RECONCILE_JOB } from '../../src/queue/names';
import { eventually } from './eventually';
import type { Harness } from './harness';

export type Service = 'vault' | 'kubernetes' | 'provider' | 'slack';
export type CallList = Record<Service, string[]>;
export const SERVICES: Service[] = ['vault', 'kubernetes', 'provider', 'slack'];

/**
 * Every call the bot made so far, per service, as `METHOD path` (Vault: the audit log's operation
 * and path, the bot's own token only; the provider: its admin API).
 */
export function callsSoFar(h: Harness): CallList {
  return {
    vault: h.world.vault.auditLog
      .filter((e) => e.type === 'request' && e.auth.display_name === 'token')
      .map((e) => `${e.request.operation} ${e.request.path}`),
    kubernetes: h.world.kubernetes.requests().map((r) => `${r.method} ${r.path}`),
    provider: h.world.provider.managementLog().map((r) => `${r.method} ${r.path}`),
    slack: h.world.slack.calls().map((c) => c.method),
  };
}

export const totalOf = (l: CallList): number => SERVICES.reduce((n, s) => n + l[s].length, 0);

const since = (before: CallList, after: CallList): CallList =>
  Object.fromEntries(SERVICES.map((s) => [s, after[s].slice(before[s].length)])) as CallList;

/** Waits until no double has seen a call from the bot for `quietMs`. */
export async function quiet(h: Harness, quietMs = 400): Promise<void> {
  let last = totalOf(callsSoFar(h));
  let at = Date.now();
  await eventually(
    () => {
      const now = totalOf(callsSoFar(h));
      if (now !== last) [last, at] = [now, Date.now()];
      return Date.now() - at >= quietMs;
    },
    { timeoutMs: 30_000, intervalMs: 50, describe: () => 'the doubles never went quiet' },
  );
}

/** The start-up reconciler's scan has finished and the doubles are quiet: its calls are not a rotation's. */
export async function startupSettled(h: Harness): Promise<void> {
  const q = new Queue(MAINTENANCE_QUEUE, { connection: h.redis, prefix: h.prefix });
  try {
    await eventually(
      async () => (await q.getJobs(['completed', 'failed'])).some((j) => j.name === RECONCILE_JOB),
      { timeoutMs: 30_000, intervalMs: 50, describe: () => 'the start-up reconciler never finished' },
    );
  } finally {
    await q.close();
  }
  await quiet(h);
}

/** One rotation of `credential` from a quiet system to a quiet system: the run and its calls. */
export async function oneRotation(
  h: Harness,
  credential: string,
): Promise<{ run: Run; calls: CallList; before: CallList }> {
  await quiet(h);
  const before = callsSoFar(h);
  const started = await h.services.service.start({ credential, requester: { kind: 'cli', id: 'calls' } });
  const run = await h.waitForRun(started.id, undefined, 60_000);
  await quiet(h);
  return { run, calls: since(before, callsSoFar(h)), before };
}

/** `n× METHOD path` lines in order of first appearance, per service. */
export function grouped(calls: CallList): CallList {
  const out = {} as CallList;
  for (const s of SERVICES) {
    const counts = new Map<string, number>();
    for (const c of calls[s]) counts.set(c, (counts.get(c) ?? 0) + 1);
    out[s] = [...counts].map(([c, n]) => `${n}× ${c}`);
  }
  return out;
}
