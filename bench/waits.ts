/**
 * Claim: a step that waits (ExternalSecret sync, rollouts, the quiet window) re-queues its job
 * instead of sleeping, so one worker slot carries many rotations at once. With a single slot and
 * rollouts that take ROLLOUT_MS, rotating two credentials together takes about as long as rotating
 * one (ratio near 1), where a worker that slept through its waits would take about twice as long.
 */
import { registerWorkers } from '../jobs';
import { startHarness, type Harness } from '../test/helpers/harness';
import type { Bench } from './bench';

const ROLLOUT_MS = 1_500;
// Both restart their consumers (monitoring-service's dynamic consumer waits out a 30 s cache instead).
const CREDENTIALS = ['payment-gateway-api', 'crm-integration'];

async function rotate(h: Harness, names: string[]): Promise<number> {
  const t0 = performance.now();
  const runs = await Promise.all(
    names.map((credential) =>
      h.services.service.start({ credential, requester: { kind: 'cli', id: 'bench' } }),
    ),
  );
  const done = await Promise.all(runs.map((r) => h.waitForRun(r.id, undefined, 120_000)));
  const failed = done.filter((r) => r.outcome !== 'succeeded');
  if (failed.length > 0)
    throw new Error(`bench runs did not succeed: ${failed.map((r) => r.outcome).join(', ')}`);
  return performance.now() - t0;
}

export const waitsBench: Bench = {
  name: 'waits',
  claim: 'waiting steps do not hold a worker: two rotations on one slot take as long as one',
  target: 1.2,
  async run() {
    const h = await startHarness({
      worker: false,
      rolloutDelayMs: ROLLOUT_MS,
      settings: { quietWindowMs: 0 },
      extraEnv: { LOG_LEVEL: 'warn' },
    });
    const workers = registerWorkers((await h.services.worker()).engine, h.services.service, {
      connection: h.services.workerRedis,
      prefix: h.prefix,
      concurrency: 1,
      logger: h.services.logger,
    });
    try {
      const one = await rotate(h, [CREDENTIALS[0]!]);
      const both = await rotate(h, CREDENTIALS);
      return { ratio: both / one, oneRotationMs: Math.round(one), twoRotationsMs: Math.round(both) };
    } finally {
      await Promise.all(workers.map((w) => w.close()));
      await h.close();
    }
  },
};
