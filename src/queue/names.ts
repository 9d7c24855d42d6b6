export const ROTATIONS_QUEUE = 'rotations';

/** BullMQ jobId derived from the run: adding the same run twice returns the existing job. */
export const rotationJobId = (runId: string): string => `run-${runId}`;

export interface RotationJobData {
  runId: string;
}
