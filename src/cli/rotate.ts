/**
 * Break-glass CLI for when Slack itself is down:
 *   npm run rotate -- <name> [--dry-run]
 * Needs only REDIS_URL (and QUEUE_PREFIX if not the default): a worker with the full configuration
 * plans or runs the rotation; this process prints the plan or the run's progress. Exit codes:
 * 0 succeeded (or plan shown), 1 the rotation did not succeed, 2 refused or bad input, 3 no worker/Redis.
 */
import { CREDENTIAL_NAME } from '../domain/credential';
import type { CliOptions } from './rotate-request';

export type { CliOptions };

const USAGE = 'usage: npm run rotate -- <credential-name> [--dry-run]';

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
  // Loaded only now: a typo is answered without even loading the Redis client.
  const { requestRotation } = await import('./rotate-request');
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
