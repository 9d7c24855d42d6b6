import { BoundedMap, closingState, isOlder, progressRank } from '../../../src/adapters/chat/progress-order';
import { newRun, type Run } from '../../../src/domain/run';

const T0 = new Date('2026-11-26T10:00:00Z');
const base = () =>
  newRun({ id: 'r1', credential: 'crm-integration', requester: { kind: 'slack', id: 'U0ALICE' }, now: T0 });
const at = (run: Run, seconds: number, done: number): Run => ({
  ...run,
  updatedAt: new Date(T0.getTime() + seconds * 1_000).toISOString(),
  steps: run.steps.map((s, i) => (i < done ? { ...s, status: 'done' } : s)),
});

describe('progress order', () => {
  it('puts a later save after an earlier one, even when a redo reset steps', () => {
    expect(isOlder(progressRank(at(base(), 5, 4)), progressRank(at(base(), 6, 2)))).toBe(true);
  });

  it('breaks a tie within one millisecond by settled steps, and equal states are not older', () => {
    expect(isOlder(progressRank(at(base(), 5, 3)), progressRank(at(base(), 5, 4)))).toBe(true);
    expect(isOlder(progressRank(at(base(), 5, 4)), progressRank(at(base(), 5, 4)))).toBe(false);
  });

  it('puts a finished run after every unfinished one, whatever the clocks say', () => {
    const finished = { ...at(base(), 1, 8), status: 'finished' as const };
    expect(isOlder(progressRank(at(base(), 99, 7)), progressRank(finished))).toBe(true);
  });

  it('closes a run at its summary: notify done, finished, outcome kept', () => {
    const run = { ...at(base(), 7, 7), outcome: 'rolled_back' as const };
    run.steps[7] = { ...run.steps[7]!, status: 'running', startedAt: run.updatedAt };
    const closed = closingState(run, new Date(T0.getTime() + 8_000));
    expect(closed).toMatchObject({ status: 'finished', outcome: 'rolled_back' });
    expect(closed.steps.every((s) => s.status === 'done')).toBe(true);
    expect(run.steps[7]!.status).toBe('running');
  });

  it('forgets the oldest entries past its bound', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...m.keys()]).toEqual(['a', 'c']);
  });
});
