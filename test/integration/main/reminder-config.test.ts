import type { ChildProcess } from 'node:child_process';
import { spawnWorker } from '../../helpers/child-worker';

const ENV = {
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  SLACK_BOT_TOKEN: 'xoxb-bot-token-value',
  VAULT_ADDR: 'http://127.0.0.1:1',
  VAULT_TOKEN: 'vault-token-value',
};

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    child.once('exit', (code) => resolve(code));
  });

describe('a worker started with a bad reminder schedule', () => {
  it.each([
    ['REMINDER_CRON', { REMINDER_CRON: '0 25 * * 1' }],
    ['REMINDER_TZ', { REMINDER_TZ: 'Mars/Olympus_Mons' }],
  ])(
    'stops at start-up (exit 2) with a message naming %s',
    async (name, bad) => {
      const { child, output } = spawnWorker({ ...ENV, ...bad });
      expect(await exited(child)).toBe(2);
      expect(output()).toMatch(new RegExp(`configuration is invalid:\\n  - ${name}: must be`));
    },
    30_000,
  );
});
