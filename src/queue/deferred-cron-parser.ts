import Module, { createRequire } from 'node:module';

/**
 * BullMQ's Queue module requires cron-parser (and with it luxon) as it loads, for job schedulers
 * with a cron pattern: only the roles that schedule the weekly digest ever use it. Here is what
 * stands for it until first use, so the web role never loads it: in the module cache when BullMQ
 * comes from node_modules (`deferCronParser`), as the module itself in the server bundle
 * (`bundled-cron-parser.ts`). Either way the real one is BullMQ's own copy (it pins one).
 */
const fromBullmq = () => createRequire(require.resolve('bullmq/package.json'));

/** Exports that load the real module's on first use, whatever is asked of them. */
export function deferredExports(load: () => object): object {
  return new Proxy(
    {},
    {
      get: (_t, key) => Reflect.get(load(), key) as unknown,
      has: (_t, key) => Reflect.has(load(), key),
      ownKeys: () => Reflect.ownKeys(load()),
      getOwnPropertyDescriptor: (_t, key) => {
        const d = Reflect.getOwnPropertyDescriptor(load(), key);
        return d && { ...d, configurable: true };
      },
    },
  );
}

/** BullMQ's cron-parser, loaded now (or taken from the module cache). */
export const loadBullmqCronParser = (): object => fromBullmq()('cron-parser') as object;

/**
 * Puts a stand-in for BullMQ's cron-parser in the module cache. A process that has it already (a
 * worker, a test) keeps its copy.
 */
export function deferCronParser(): void {
  const bullmqRequire = fromBullmq();
  let file: string;
  try {
    file = bullmqRequire.resolve('cron-parser');
  } catch {
    return; // A BullMQ that no longer depends on it: nothing to defer.
  }
  // Only under Node's own loader (this module's require is Node's or the bundle's, not a test
  // runner's registry), and only before anyone loaded it.
  const cache = require.cache;
  if (cache !== (Module as unknown as { _cache: NodeJS.Dict<NodeJS.Module> })._cache) return;
  if (cache[file]) return;
  let real: object | undefined;
  const standIn = new Module(file);
  standIn.filename = file;
  standIn.loaded = true;
  standIn.exports = deferredExports(() => {
    if (!real) {
      delete cache[file];
      real = loadBullmqCronParser();
    }
    return real;
  });
  cache[file] = standIn;
}
