/**
 * What `npm start` and the image run: `node dist/main.js [web|worker|all]` (in the environment of
 * process-tuning.ts). The roles' code (src/main.ts and everything it loads but the worker-only
 * clients) is one bundle, dist/main.bundle.js, compiled from a V8 code cache the build writes beside
 * it: a web role starts without resolving, reading and compiling some 900 modules. A cache that does
 * not fit (another Node, V8 flags) is ignored and the bundle compiled from source.
 *
 * The build (`npm run build:server`) runs `node dist/main.js --write-code-cache`, which loads the
 * bundle and the web role's modules and writes the cache. The worker's own modules compile from
 * source when it loads them, as before: the web role does not hold their code.
 */
import { join } from 'node:path';
import { runBundle } from './code-cache';

runBundle<typeof import('./main')>(
  join(__dirname, 'main.bundle.js'),
  (main) => main.run(),
  async (main) => {
    await main.loadSlackApp();
  },
);
