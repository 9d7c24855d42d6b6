/**
 * Loads a bundled CommonJS file with a V8 code cache kept beside it (`<file>.cache`), so a process
 * does not spend its start compiling BullMQ, Bolt and ioredis again (Node 20 has no
 * `module.enableCompileCache`). The cache is an optimisation only: a cache that is missing, written
 * for other file contents, or refused by V8 (another Node version or V8 flags) is ignored.
 *
 * A bundle may come already wrapped as a CommonJS module function (`BUNDLE_BANNER` … `})`, esbuild's
 * banner and footer): V8 then compiles the file's own text, and the process holds one copy of a
 * source of several megabytes instead of that copy and a wrapped one.
 */
import { isAscii } from 'node:buffer';
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The first line of a pre-wrapped bundle (`esbuild --banner:js=…`); its last line is `})`. */
export const BUNDLE_BANNER = '(function (exports, require, module, __filename, __dirname) {';

/** The file's contents (and Node's build) in a fixed-length header: V8 itself checks only the source length. */
const HEADER_BYTES = 40;
const keyOf = (bytes: Buffer) =>
  createHash('sha1').update(process.version).update(process.arch).update(bytes).digest('hex');

export interface CodeCacheOptions {
  /**
   * When the cache is missing or refused, write it as the process exits, with every function this
   * run compiled (default). The server's cache is written by the build instead (`writeCodeCache`):
   * a server process never writes beside its code.
   */
  writeAtExit?: boolean;
}

function readCache(path: string, key: string): Buffer | undefined {
  try {
    const raw = readFileSync(path);
    return raw.subarray(0, HEADER_BYTES).toString('latin1') === key ? raw.subarray(HEADER_BYTES) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(path: string, key: string, script: Script): void {
  // Written whole under another name, then renamed: two processes at once never read half a cache.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]));
    renameSync(tmp, path);
  } catch {
    // A read-only install runs without the cache.
  }
}

/**
 * The compiled bundle, and the cache's file and key. A function of its own so that the source's and
 * the cache's buffers are garbage before the bundle's code runs.
 */
function compile(file: string): { script: Script; cachePath: string; key: string; cached: boolean } {
  const bytes = readFileSync(file);
  const cachePath = `${file}.cache`;
  const key = keyOf(bytes);
  // An ASCII bundle (esbuild's charset, legal comments kept apart) is its string without decoding.
  const source = isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
  const cachedData = readCache(cachePath, key);
  const script = new Script(source.startsWith(BUNDLE_BANNER) ? source : wrap(source), {
    filename: file,
    ...(cachedData ? { cachedData } : {}),
  });
  return { script, cachePath, key, cached: cachedData !== undefined && !script.cachedDataRejected };
}

function run(script: Script, file: string): unknown {
  const module = { exports: {} as unknown, filename: file, id: file, loaded: false };
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}

/** `require(file)` for a self-contained bundle, compiled from (and by default then kept in) its code cache. */
export function requireWithCodeCache(file: string, opts: CodeCacheOptions = {}): unknown {
  const { script, cachePath, key, cached } = compile(file);
  if (!cached && opts.writeAtExit !== false) {
    // At exit, so the cache also holds the functions this run compiled lazily, not only the top level.
    process.once('exit', () => writeCache(cachePath, key, script));
  }
  return run(script, file);
}

/**
 * Writes `file`'s code cache anew (the build's step): loads the bundle, lets `warm` run what a
 * process starting from it runs (its modules' top levels), and keeps every function that compiled.
 */
export async function writeCodeCache(file: string, warm: (exports: unknown) => Promise<void>): Promise<void> {
  try {
    unlinkSync(`${file}.cache`);
  } catch {
    // None yet.
  }
  const { script, cachePath, key } = compile(file);
  await warm(run(script, file));
  writeCache(cachePath, key, script);
  if (!codeCacheFits(file)) throw new Error(`V8 refuses the code cache just written for ${file}`);
}

/** Whether this process (its Node, its V8 flags) would compile `file` from its code cache. */
export function codeCacheFits(file: string): boolean {
  return compile(file).cached;
}

/**
 * A process entry that is a bundle's loader: started with `--write-code-cache` (the build's step) it
 * runs `warm` and writes the cache; otherwise it loads the bundle from its cache, never writing it,
 * and hands it to `start`.
 */
export function runBundle<T>(
  file: string,
  start: (exports: T) => void,
  warm: (exports: T) => Promise<void>,
): void {
  if (process.argv[2] !== '--write-code-cache') {
    start(requireWithCodeCache(file, { writeAtExit: false }) as T);
    return;
  }
  writeCodeCache(file, (exports) => warm(exports as T)).then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(`could not write the code cache of ${file}: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
