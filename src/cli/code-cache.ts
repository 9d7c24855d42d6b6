/**
 * Loads a bundled CommonJS file with a V8 code cache kept beside it (`<file>.cache`), so a short
 * CLI process does not spend its life compiling BullMQ and ioredis again (Node 20 has no
 * `module.enableCompileCache`). The cache is an optimisation only: a cache that is missing, written
 * for other file contents, or refused by V8 (another Node version or flags) is ignored and written
 * anew when the process exits; a directory that cannot be written to just means no cache.
 */
import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire, wrap } from 'node:module';
import { dirname } from 'node:path';
import { Script } from 'node:vm';

/** The file's contents (and Node's build) in a fixed-length header: V8 itself checks only the source length. */
const HEADER_BYTES = 40;
const keyOf = (source: string) =>
  createHash('sha1').update(process.version).update(process.arch).update(source).digest('hex');

function readCache(path: string, key: string): Buffer | undefined {
  try {
    const raw = readFileSync(path);
    return raw.subarray(0, HEADER_BYTES).toString('latin1') === key ? raw.subarray(HEADER_BYTES) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(path: string, key: string, script: Script): void {
  // Written whole under another name, then renamed: two CLIs at once never read half a cache.
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(key, 'latin1'), script.createCachedData()]));
    renameSync(tmp, path);
  } catch {
    // A read-only install runs without the cache.
  }
}

/** `require(file)` for a self-contained bundle, compiled from (and then kept in) its code cache. */
export function requireWithCodeCache(file: string): unknown {
  const source = readFileSync(file, 'utf8');
  const cachePath = `${file}.cache`;
  const key = keyOf(source);
  const cachedData = readCache(cachePath, key);
  const script = new Script(wrap(source), { filename: file, ...(cachedData ? { cachedData } : {}) });
  if (!cachedData || script.cachedDataRejected) {
    // At exit, so the cache also holds the functions this run compiled lazily, not only the top level.
    process.once('exit', () => writeCache(cachePath, key, script));
  }
  const module = { exports: {} as unknown, filename: file, id: file, loaded: false };
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(module.exports, module.exports, createRequire(file), module, file, dirname(file));
  module.loaded = true;
  return module.exports;
}
