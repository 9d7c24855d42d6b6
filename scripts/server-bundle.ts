/**
 * How a process is bundled to start from a V8 code cache (src/code-cache.ts): the roles' process
 * (`npm run build:server`, and the tests of what it builds) and, in the benches, the bare Bolt app
 * it is compared with.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { BUNDLE_BANNER } from '../src/code-cache';

const ROOT = join(__dirname, '..');

const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  logLevel: 'warning',
};

/**
 * `entry` and what it loads as one file, wrapped as a CommonJS module function so the loader
 * compiles the file's own text (one copy of it in memory), minified in syntax and whitespace only:
 * stack traces keep their function names. Answers the files bundled, relative to the project.
 */
async function bundle(entry: string, outfile: string): Promise<string[]> {
  const { metafile } = await build({
    ...COMMON,
    entryPoints: [entry],
    outfile,
    minifySyntax: true,
    minifyWhitespace: true,
    // The packages' licence comments go to <outfile>.LEGAL.txt: kept, but not in the process's memory.
    legalComments: 'external',
    banner: { js: BUNDLE_BANNER },
    footer: { js: '})' },
    external: [
      // Worker-only clients, loaded from node_modules by the first credential (or step) that needs them.
      '@kubernetes/client-node',
      'node-vault',
      '@aws-sdk/*',
      'pg',
      'mysql2',
      // A native addon, found through node_modules or not at all.
      'msgpackr-extract',
      // Large tables a process reads a few entries of (character sets, MIME types): bundled, it
      // would hold all their text.
      'iconv-lite',
      'mime-db',
      // Resolved at run time, to find BullMQ's own cron-parser.
      'bullmq/package.json',
    ],
    alias: { 'cron-parser': './src/queue/bundled-cron-parser.ts' },
    metafile: true,
  });
  return Object.keys(metafile.inputs);
}

/** The entry that loads a bundle (src/code-cache.ts `runBundle`), itself bundled. */
async function bundleEntry(entry: string, outfile: string): Promise<void> {
  await build({ ...COMMON, entryPoints: [entry], outfile });
}

/**
 * Writes the code cache of the bundle `entryFile` loads. V8 refuses a cache written under other V8
 * flags: the process is started as it is deployed, with none.
 */
function writeCodeCache(entryFile: string): void {
  execFileSync(process.execPath, [entryFile, '--write-code-cache'], { cwd: ROOT, stdio: 'inherit' });
}

/**
 * A process that starts from a code cache: `source` bundled to `bundleFile`, the loader `entry`
 * (which calls `runBundle` on that file) bundled to `entryFile`, then the cache written by the
 * loader. Answers the files bundled.
 */
export async function buildCached(
  source: string,
  bundleFile: string,
  entry: string,
  entryFile: string,
): Promise<string[]> {
  const inputs = await bundle(source, bundleFile);
  await bundleEntry(entry, entryFile);
  writeCodeCache(entryFile);
  return inputs;
}

/**
 * The roles' process in `outDir` (inside the project, so its node_modules resolve): main.js
 * (src/entry.ts), main.bundle.js (src/main.ts and what it loads) and the bundle's code cache.
 * Answers the files bundled.
 */
export function buildServer(outDir: string): Promise<string[]> {
  return buildCached('src/main.ts', join(outDir, 'main.bundle.js'), 'src/entry.ts', join(outDir, 'main.js'));
}
