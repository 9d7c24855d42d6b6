/**
 * Claims about the roles' processes as deployed (`node dist/main.js web|worker`, the bundle loaded
 * from its code cache, with the environment of src/process-tuning.ts):
 * - web-rss: the web role's resident memory once started and idle for IDLE_MS, vs a bare Bolt 5
 *   app (bench/bare-bolt.ts) measured in the same run, target ≤ 1.3×;
 * - web-start: spawn to ready (the "started" log line), vs the bare Bolt app, target ≤ 1.5×;
 * - worker-rss: the worker role's resident memory once started and idle, vs 150 MB, target ≤ 1.
 * Both sides verify their bot token at start (auth.test against the Slack double), as Bolt does by
 * default. The roles run against the sandbox's doubles and the local Redis. Needs `npm run build`.
 * The bare app runs as users run Bolt (its modules from node_modules, no flags); beside the ratio,
 * the same app bundled and started as the roles are (`bareBundled`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { startWorld } from '../sandbox/world';
import { deletePrefix, REDIS_URL, testRedis } from '../test/helpers/redis';
import { PROCESS_ENV } from '../src/process-tuning';
import { buildCached } from '../scripts/server-bundle';
import type { Bench } from './bench';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist/main.js');
const BARE = join(ROOT, 'dist/bench/bare-bolt.js');
const BARE_BUNDLED = join(ROOT, 'dist/bench/bare-bolt-bundled.js');
const IDLE_MS = 2_000;

interface Started {
  readyMs: number;
  rssMb: number;
}

/**
 * Spawns `args`, waits for a stdout line matching `ready`, then runs `then` with that line (the
 * default idles IDLE_MS and reads VmRSS), and stops the process.
 */
export function spawnUntilReady<T>(
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  then: (line: string, readyMs: number, pid: number) => Promise<T>,
): Promise<T> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!ready.test(line)) return;
      const readyMs = performance.now() - t0;
      clearTimeout(timer);
      lines.removeAllListeners('line');
      then(line, readyMs, child.pid!).then(resolve, reject);
    });
  }).finally(() => {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  });
}

const idleRss = (pid: number): Promise<number> =>
  new Promise((resolve) =>
    setTimeout(() => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      resolve(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]) / 1024);
    }, IDLE_MS),
  );

const measure = (args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Started> =>
  spawnUntilReady(args, env, ready, async (_line, readyMs, pid) => ({ readyMs, rssMb: await idleRss(pid) }));

/** A role's process as the image starts it; spawn it with `deployedEnv`. */
const roleArgs = (role: string) => [MAIN, role];
export const deployedEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => ({ ...env, ...PROCESS_ENV });
export const WEB_ARGS = roleArgs('web');
export const BARE_ARGS = [BARE];
const BARE_BUNDLED_ARGS = [BARE_BUNDLED];
export const WEB_READY = /credential-rotator started/;
export const BARE_READY = /bare bolt started/;

/** Builds the bare Bolt app to dist/bench (both sides run compiled JavaScript). */
export function buildBare(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
  const r = spawnSync(
    esbuild,
    ['bench/bare-bolt.ts', '--platform=node', '--format=cjs', `--outfile=${BARE}`, '--log-level=warning'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('could not build bench/bare-bolt.ts');
}

/** Builds the bare Bolt app as the roles are built (scripts/server-bundle.ts), code cache included. */
export async function buildBareBundled(): Promise<void> {
  await buildCached(
    'bench/bare-bolt.ts',
    'dist/bench/bare-bolt.bundle.js',
    'bench/bare-bolt-bundled.ts',
    BARE_BUNDLED,
  );
}

/** Runs `fn` with the doubles and a Redis prefix of its own, then removes both. */
export async function withWorld<T>(fn: (env: NodeJS.ProcessEnv) => Promise<T>): Promise<T> {
  const prefix = `bench-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'rotator-bench-'));
  const world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: prefix });
  try {
    return await fn({ ...process.env, ...world.env, PORT: '0', LOG_LEVEL: 'info' });
  } finally {
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Sides {
  web: Started;
  bare: Started;
  bareNoAuthTest: Started;
  bareBundled: Started;
}

/**
 * One web role and one bare Bolt app, started one after the other; reported beside the ratio, the
 * bare app without its auth.test (no fetch at all, so Node's HTTP client is never loaded: about
 * 11 MB less), and the bare app bundled and started as the web role is.
 */
async function webVsBare(): Promise<Sides> {
  buildBare();
  await buildBareBundled();
  return withWorld(async (env) => {
    const web = await measure(WEB_ARGS, deployedEnv(env), WEB_READY);
    const bare = await measure(BARE_ARGS, env, BARE_READY);
    const bareNoAuthTest = await measure(BARE_ARGS, { ...env, BARE_NO_AUTH_TEST: '1' }, BARE_READY);
    const bareBundled = await measure(BARE_BUNDLED_ARGS, deployedEnv(env), BARE_READY);
    return { web, bare, bareNoAuthTest, bareBundled };
  });
}

/** A bench comparing one measure of the web role with the bare Bolt app's. */
const webBench = (
  name: string,
  claim: string,
  target: number,
  unit: string,
  of: (s: Started) => number,
): Bench => ({
  name,
  claim,
  target,
  async run() {
    const { web, bare, bareNoAuthTest, bareBundled } = await webVsBare();
    return {
      ratio: of(web) / of(bare),
      [`web${unit}`]: Math.round(of(web)),
      [`bare${unit}`]: Math.round(of(bare)),
      [`bareNoAuthTest${unit}`]: Math.round(of(bareNoAuthTest)),
      ratioToNoAuthTest: Number((of(web) / of(bareNoAuthTest)).toFixed(3)),
      [`bareBundled${unit}`]: Math.round(of(bareBundled)),
      ratioToBundled: Number((of(web) / of(bareBundled)).toFixed(3)),
    };
  },
});

export const webRssBench = webBench(
  'web-rss',
  'idle RSS of the web role as deployed, vs a bare Bolt 5 app',
  1.3,
  'Mb',
  (s) => s.rssMb,
);

export const webStartBench = webBench(
  'web-start',
  'start to ready of the web role as deployed, vs a bare Bolt 5 app',
  1.5,
  'Ms',
  (s) => s.readyMs,
);

const WORKER_RSS_BUDGET_MB = 150;

export const workerRssBench: Bench = {
  name: 'worker-rss',
  claim: `idle RSS of the worker role, vs ${WORKER_RSS_BUDGET_MB} MB`,
  target: 1,
  async run() {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
    const worker = await withWorld((env) => measure(roleArgs('worker'), deployedEnv(env), WEB_READY));
    return {
      ratio: worker.rssMb / WORKER_RSS_BUDGET_MB,
      workerMb: Math.round(worker.rssMb),
      workerStartMs: Math.round(worker.readyMs),
    };
  },
};
