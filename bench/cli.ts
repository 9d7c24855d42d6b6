/**
 * Claim: the break-glass CLI's dry run answers within 200 ms. A harness worker plans; the compiled
 * CLI (`node dist/cli/rotate.js <name> --dry-run`, the bundle `npm run rotate` runs) is timed from
 * spawn to exit, as a ratio to the 200 ms budget. In the same run, for comparison: a bare
 * `node -e ''` (the floor this machine sets), the CLI through `npm run rotate` (npm's own start
 * included) and through tsx (the development path), and a refused name (answered before BullMQ
 * loads, so close to bare Node). Needs the bundles (`npm run build:cli`, also run by `npm ci`); the
 * first run is untimed (the worker's first plan warms its caches).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { median, type Bench } from './bench';
import { startHarness } from '../test/helpers/harness';
import { REDIS_URL } from '../test/helpers/redis';

const ROOT = join(__dirname, '..');
const COMPILED = join(ROOT, 'dist/cli/rotate.js');
/** Loaded by the CLI to follow a run and to withdraw a request: the dry run needs neither. */
const HALVES = ['rotate-follow.js', 'rotate-withdraw.js'].map((f) => join(ROOT, 'dist/cli', f));
const BUDGET_MS = 200;
const ARGS = ['payment-gateway-api', '--dry-run'];

/** Wall time of one process from spawn to exit; it must exit with `expected` (0 by default). */
function timed(cmd: string, args: string[], env: NodeJS.ProcessEnv, expected = 0): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) =>
      code === expected
        ? resolve(performance.now() - t0)
        : reject(new Error(`${cmd} ${args.join(' ')}: ${code} ${err}`)),
    );
  });
}

async function medianOf(times: number, f: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < times; i++) xs.push(await f());
  return median(xs);
}

export const cliBench: Bench = {
  name: 'cli',
  claim: '`npm run rotate -- <name> --dry-run` (compiled) answers within 200 ms',
  target: 1,
  async run() {
    for (const file of [COMPILED, ...HALVES])
      if (!existsSync(file)) throw new Error(`${file} is missing: run npm run build:cli first`);
    const h = await startHarness({ extraEnv: { LOG_LEVEL: 'warn' } });
    const env = { ...process.env, REDIS_URL, QUEUE_PREFIX: h.prefix };
    try {
      await timed('node', [COMPILED, ...ARGS], env); // the worker's first plan warms its caches
      const compiled = await medianOf(5, () => timed('node', [COMPILED, ...ARGS], env));
      const bare = await medianOf(5, () => timed('node', ['-e', ''], env));
      const badName = await medianOf(5, () =>
        timed('node', [COMPILED, 'Payment Gateway', '--dry-run'], env, 2),
      );
      const npm = await medianOf(3, () => timed('npm', ['run', '--silent', 'rotate', '--', ...ARGS], env));
      const tsx = await medianOf(3, () =>
        timed(join(ROOT, 'node_modules/.bin/tsx'), ['src/cli/rotate.ts', ...ARGS], env),
      );
      return {
        ratio: compiled / BUDGET_MS,
        compiledMs: Math.round(compiled),
        bareNodeMs: Math.round(bare),
        badNameMs: Math.round(badName),
        npmRunMs: Math.round(npm),
        tsxMs: Math.round(tsx),
      };
    } finally {
      await h.close();
    }
  },
};
