/**
 * Claim examined: the CPU the `concurrent` target leaves each of the hundred first segments on one
 * thread. The last of them ends no sooner than all hundred's CPU, and that rotation still has one
 * rotation's time ahead of it, less its own first segment: so 1.2 leaves the hundred a fifth of one
 * rotation's waits plus one first segment's wall time (50–75 ms alone; FIRST_SEGMENT_MS allows
 * 100). With 1 s rollouts and the 1 s quiet window: (400 + 100) / 100 = 5 ms a segment.
 * This measures what the external calls of one first segment alone cost the process that makes
 * them, through the worker's adapters and the client libraries the product is built on, with no
 * engine, run record, audit or queue around them; the ratio is that CPU against the budget. A
 * ratio above 1 means no worker making these calls through these clients can meet `concurrent` on
 * this machine.
 *
 * The doubles run in this process and the calls in a child of their own (bench/segment-calls-child.ts),
 * so the child's CPU is the callers' alone; it also prints each call's CPU and, for scale, a bare
 * keep-alive node:http GET of the same issuer's key list.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld } from '../sandbox/world';
import { runClient } from '../test/helpers/clients';
import { deletePrefix, REDIS_URL, testRedis } from '../test/helpers/redis';
import type { Bench } from './bench';
import { CONCURRENT_COUNT, crmCopies, ONE_ROTATION_WAITS_MS } from './concurrent';
import { deployedEnv } from './web-role';

const ROOT = join(__dirname, '..');
const SEGMENTS = 100;
/** A first segment's wall time on an idle worker, generously (a run's start to its rollout wait: 50–75 ms). */
const FIRST_SEGMENT_MS = 100;
const BUDGET_MS = (ONE_ROTATION_WAITS_MS / 5 + FIRST_SEGMENT_MS) / CONCURRENT_COUNT;

async function runChild(
  env: NodeJS.ProcessEnv,
): Promise<{ segmentMs: number; calls: Record<string, number> }> {
  const { code, stdout, stderr } = await runClient(
    process.execPath,
    ['--import', 'tsx', join(__dirname, 'segment-calls-child.ts'), String(SEGMENTS)],
    { cwd: ROOT, env: deployedEnv({ ...env, LOG_LEVEL: 'error' }), timeoutMs: 300_000 },
  );
  const line = stdout.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{'))
    throw new Error(`segment-calls child exited ${code}: ${stderr.slice(-2000)}`);
  return JSON.parse(line) as { segmentMs: number; calls: Record<string, number> };
}

export const segmentCallsBench: Bench = {
  name: 'segment-calls',
  claim: `CPU of one first segment's external calls through the worker's clients, vs the ${BUDGET_MS} ms \`concurrent\` leaves`,
  target: 1,
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'segment-calls-'));
    // As in `concurrent`: each segment has a credential of its own (store path, Secret, deployment),
    // and all of them share one issuer account, whose key list the segments' listings read.
    // The child runs the TypeScript through tsx, not the worker's bundle: the same code once loaded.
    const prefix = `bench-segment-${process.pid}-${Date.now()}`;
    const world = await startWorld({
      dir,
      redisUrl: REDIS_URL,
      queuePrefix: prefix,
      editCatalog: crmCopies(SEGMENTS + 20),
    });
    try {
      const { segmentMs, calls } = await runChild({ ...process.env, ...world.env });
      return {
        ratio: segmentMs / BUDGET_MS,
        segmentMs: Number(segmentMs.toFixed(2)),
        budgetMs: BUDGET_MS,
        ...Object.fromEntries(Object.entries(calls).map(([k, v]) => [`${k}Ms`, Number(v.toFixed(2))])),
      };
    } finally {
      await world.close();
      const redis = testRedis();
      await deletePrefix(redis, prefix);
      redis.disconnect();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
