/**
 * Claims about the web role (`node dist/src/main.js web`, compiled), each against a bare Bolt 5 app
 * (bench/bare-bolt.ts) measured in the same run:
 * - web-rss: resident memory once started and idle for IDLE_MS, target ≤ 1.3×;
 * - web-start: spawn to ready (the "started" log line), target ≤ 1.5×.
 * The web role runs against the sandbox's doubles and the local Redis. Needs `npm run build`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { randomUUID } from 'node:crypto';
import { startWorld } from '../sandbox/world';
import { deletePrefix, REDIS_URL, testRedis } from '../test/helpers/redis';
import type { Bench } from './bench';

const ROOT = join(__dirname, '..');
const MAIN = join(ROOT, 'dist/src/main.js');
const BARE = join(ROOT, 'dist/bench/bare-bolt.js');
const IDLE_MS = 2_000;

interface Started {
  readyMs: number;
  rssMb: number;
}

/** Spawns `args`, waits for a stdout line matching `ready`, idles, reads VmRSS, stops it. */
function measure(args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<Started> {
  const t0 = performance.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise<Started>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start`)), 30_000);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!ready.test(line)) return;
      const readyMs = performance.now() - t0;
      clearTimeout(timer);
      setTimeout(() => {
        const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
        const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
        resolve({ readyMs, rssMb: kb / 1024 });
      }, IDLE_MS);
    });
  }).finally(() => {
    child.removeAllListeners('exit');
    child.kill('SIGTERM');
  });
}

function buildBare(): void {
  const esbuild = join(ROOT, 'node_modules/.bin/esbuild');
  const r = spawnSync(
    esbuild,
    ['bench/bare-bolt.ts', '--platform=node', '--format=cjs', `--outfile=${BARE}`, '--log-level=warning'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (r.status !== 0) throw new Error('could not build bench/bare-bolt.ts');
}

/** One web role and one bare Bolt app, started one after the other. */
async function webVsBare(): Promise<{ web: Started; bare: Started }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  buildBare();
  const prefix = `bench-${randomUUID()}`;
  const dir = mkdtempSync(join(tmpdir(), 'rotator-bench-'));
  const world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: prefix });
  const env = { ...process.env, ...world.env, PORT: '0', LOG_LEVEL: 'info' };
  try {
    const web = await measure([MAIN, 'web'], env, /credential-rotator started/);
    const bare = await measure([BARE], env, /bare bolt started/);
    return { web, bare };
  } finally {
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }
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
    const { web, bare } = await webVsBare();
    return {
      ratio: of(web) / of(bare),
      [`web${unit}`]: Math.round(of(web)),
      [`bare${unit}`]: Math.round(of(bare)),
    };
  },
});

export const webRssBench = webBench(
  'web-rss',
  'idle RSS of the web role, vs a bare Bolt 5 app',
  1.3,
  'Mb',
  (s) => s.rssMb,
);

export const webStartBench = webBench(
  'web-start',
  'start to ready of the web role (compiled), vs a bare Bolt 5 app',
  1.5,
  'Ms',
  (s) => s.readyMs,
);
