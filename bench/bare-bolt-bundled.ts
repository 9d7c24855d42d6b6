/**
 * The bare Bolt app (bench/bare-bolt.ts) as the roles are deployed: one bundle loaded from its V8
 * code cache (src/code-cache.ts), started with the same environment. Built to
 * dist/bench by the bench; `--write-code-cache` writes the cache, with Bolt's modules loaded.
 */
import { join } from 'node:path';
import { runBundle } from '../src/code-cache';

runBundle<typeof import('./bare-bolt')>(
  join(__dirname, 'bare-bolt.bundle.js'),
  (bare) => void bare.main(),
  async () => undefined,
);
