import { DelayedError, type Job } from 'bullmq';
import { createRotationProcessor } from '../../../jobs/rotation-job';
import type { AdvanceResult, RotationEngine } from '../../../src/procedures/engine';
import type { Run } from '../../../src/domain/run';
import type { RotationJobData } from '../../../src/queue/names';

/** A job double: records the moves the processor asks BullMQ for. */
function fakeJob() {
  const moves: string[] = [];
  const job = {
    id: 'rotation-run-1',
    data: { runId: 'run-1' },
    moveToDelayed: jest.fn(async (at: number) => void moves.push(`delayed until +${at - Date.now()}`)),
    promote: jest.fn(async () => void moves.push('promoted')),
  };
  return { job: job as unknown as Job<RotationJobData>, moves, promote: job.promote };
}

const waiting = (delayMs: number, wake?: Promise<boolean>): RotationEngine =>
  ({
    advance: async (): Promise<AdvanceResult> => ({
      kind: 'wait',
      delayMs,
      run: { id: 'run-1' } as Run,
      ...(wake ? { wake } : {}),
    }),
  }) as unknown as RotationEngine;

describe('the rotation processor, when a step waits', () => {
  beforeEach(() => jest.useFakeTimers({ now: new Date('2026-03-01T10:00:00Z') }));
  afterEach(() => jest.useRealTimers());

  it('re-queues the job delayed and promotes it itself once the delay is over', async () => {
    const { job, moves, promote } = fakeJob();
    await expect(createRotationProcessor(waiting(5_000))(job, 'token')).rejects.toBeInstanceOf(DelayedError);
    expect(moves).toEqual(['delayed until +5000']);

    await jest.advanceTimersByTimeAsync(4_999);
    expect(promote).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(moves).toEqual(['delayed until +5000', 'promoted']);
  });

  it('promotes it at once when what it waits for happens (the watch wakes it), and only once', async () => {
    const { job, promote } = fakeJob();
    let wake!: (now: boolean) => void;
    const woken = new Promise<boolean>((resolve) => (wake = resolve));
    await expect(createRotationProcessor(waiting(5_000, woken))(job, 'token')).rejects.toBeInstanceOf(
      DelayedError,
    );
    wake(true);
    await jest.advanceTimersByTimeAsync(0);
    expect(promote).toHaveBeenCalledTimes(1);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(promote).toHaveBeenCalledTimes(1);
  });

  it('keeps to the delay when the watch cannot tell (it woke with false)', async () => {
    const { job, promote } = fakeJob();
    await expect(
      createRotationProcessor(waiting(5_000, Promise.resolve(false)))(job, 'token'),
    ).rejects.toBeInstanceOf(DelayedError);
    await jest.advanceTimersByTimeAsync(4_000);
    expect(promote).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(promote).toHaveBeenCalledTimes(1);
  });

  it('drops the promotion of a wait when the job runs again before it is due (woken, or clicked)', async () => {
    const { job, promote } = fakeJob();
    const processor = createRotationProcessor(waiting(5_000));
    await expect(processor(job, 'token')).rejects.toBeInstanceOf(DelayedError);
    await jest.advanceTimersByTimeAsync(1_000);
    // Promoted by someone else (a Stored click): the run looks again and waits anew.
    await expect(processor(job, 'token')).rejects.toBeInstanceOf(DelayedError);
    await jest.advanceTimersByTimeAsync(4_500);
    expect(promote).not.toHaveBeenCalled(); // the first wait's promotion would have come at 5 s
    await jest.advanceTimersByTimeAsync(500);
    expect(promote).toHaveBeenCalledTimes(1);
  });

  it('leaves a long delay to Redis (a run parked for hours holds no timer), unless the watch wakes it', async () => {
    const parked = fakeJob();
    await expect(createRotationProcessor(waiting(4 * 3_600_000))(parked.job, 'token')).rejects.toBeInstanceOf(
      DelayedError,
    );
    await jest.advanceTimersByTimeAsync(4 * 3_600_000);
    expect(parked.promote).not.toHaveBeenCalled();

    const watched = fakeJob();
    await expect(
      createRotationProcessor(waiting(120_000, Promise.resolve(true)))(watched.job, 'token'),
    ).rejects.toBeInstanceOf(DelayedError);
    await jest.advanceTimersByTimeAsync(0);
    expect(watched.promote).toHaveBeenCalledTimes(1);
  });

  it('does not fail when the promote loses the race (the worker already took the job)', async () => {
    const { job, promote } = fakeJob();
    promote.mockRejectedValueOnce(new Error('Job run-1 is not in the delayed state'));
    await expect(createRotationProcessor(waiting(100))(job, 'token')).rejects.toBeInstanceOf(DelayedError);
    await jest.advanceTimersByTimeAsync(100);
    expect(promote).toHaveBeenCalledTimes(1);
  });
});
