/**
 * Break-glass CLI for when Slack itself is down:
 *   npm run rotate -- <name> [--dry-run]
 * Needs only REDIS_URL (and QUEUE_PREFIX if not the default): a worker with the full configuration
 * plans or runs the rotation; this process prints the plan or the run's progress. Exit codes:
 * 0 succeeded (or plan shown), 1 the rotation did not succeed, 2 refused or bad input, 3 no worker/Redis.
 */
import { join } from 'node:path';
import { CREDENTIAL_NAME } from '../domain/credential';
import type { CliOptions } from './rotate-request';

export type { CliOptions };

const USAGE = 'usage: npm run rotate -- <credential-name> [--dry-run]';

/** Set by `npm run build:cli`: there the request half is a bundle of its own beside this one. */
declare const CLI_BUNDLE: true | undefined;

/**
 * BullMQ and the Redis client, loaded only once the name is known to be sane: checking a name costs
 * no more than Node's start. Compiled, they come from a V8 code cache: compiling them is most of what
 * a dry run would otherwise spend.
 */
async function loadRequestRotation(): Promise<typeof import('./rotate-request')> {
  if (typeof CLI_BUNDLE === 'undefined') return import('./rotate-request');
  const { requireWithCodeCache } = await import('../code-cache');
  return requireWithCodeCache(join(__dirname, 'rotate-request.js')) as typeof import('./rotate-request');
}

/** The CLI without process globals: returns the exit code. */
export async function rotateCli(argv: string[], opts: CliOptions): Promise<number> {
  const dryRun = argv.includes('--dry-run');
  const names = argv.filter((a) => !a.startsWith('--'));
  if (names.length !== 1 || argv.some((a) => a.startsWith('--') && a !== '--dry-run')) {
    console.error(USAGE);
    return 2;
  }
  const name = names[0]!;
  if (!CREDENTIAL_NAME.test(name)) {
    console.error(
      `${JSON.stringify(name.slice(0, 70))} is not a credential name (lower-case a-z, digits, '-').\n${USAGE}`,
    );
    return 2;
  }
  const { requestRotation } = await loadRequestRotation();
  return requestRotation(name, dryRun, opts);
}

if (require.main === module) {
  rotateCli(process.argv.slice(2), {
    redisUrl: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
    prefix: process.env.QUEUE_PREFIX || 'rotator',
    exit: (code) => process.exit(code),
  }).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`rotate: ${(e as Error).message}`);
      process.exit(3);
    },
  );
}
