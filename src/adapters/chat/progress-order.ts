import type { Run } from '../../domain/run';

/**
 * Where a run state stands in the run's life, to order progress updates without a counter in the
 * run: a finished run is past every unfinished one; otherwise the later save (`updatedAt`, set by
 * the engine before each progress call) wins, and within one millisecond the one with more steps
 * settled. A redo step resets steps to pending but saves later, so it still counts as newer.
 */
export type ProgressRank = readonly [finished: number, savedAtMs: number, settledSteps: number];

export function progressRank(run: Run): ProgressRank {
  const settled = run.steps.filter(
    (s) => s.status === 'done' || s.status === 'failed' || s.status === 'skipped',
  );
  const saved = Date.parse(run.updatedAt);
  return [run.status === 'finished' ? 1 : 0, Number.isNaN(saved) ? 0 : saved, settled.length];
}

/** True when `a` is a strictly older state than `b`. Equal ranks are not older: the later call wins. */
export function isOlder(a: ProgressRank, b: ProgressRank): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/**
 * The run as the engine records it once the summary is posted: the notify step done, the run
 * finished. The summary is the last word on a run, so the progress message is brought to this
 * state with it, and later progress calls for the run are dropped.
 */
export function closingState(run: Run, now: Date): Run {
  const at = now.toISOString();
  return {
    ...run,
    status: 'finished',
    outcome: run.outcome ?? 'succeeded',
    updatedAt: at,
    steps: run.steps.map((s) =>
      s.name === 'notify' && (s.status === 'running' || s.status === 'pending')
        ? { ...s, status: 'done' as const, endedAt: at, ...(s.startedAt ? {} : { startedAt: at }) }
        : s,
    ),
  };
}

/** A Map that forgets its oldest entries past `max`: per-run bookkeeping must not grow forever. */
export class BoundedMap<K, V> extends Map<K, V> {
  constructor(private readonly max = 10_000) {
    super();
  }

  override set(key: K, value: V): this {
    this.delete(key);
    super.set(key, value);
    if (this.size > this.max) this.delete(this.keys().next().value as K);
    return this;
  }
}
