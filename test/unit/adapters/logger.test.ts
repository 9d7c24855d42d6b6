import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** Runs `body` in a process of its own with `logger` = createLogger('info'); its stdout lines' msgs. */
function logged(body: string): Promise<string[]> {
  const script = `const { createLogger } = require(${JSON.stringify(join(ROOT, 'src', 'logger.ts'))});
const logger = createLogger('info');
${body}`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '-e', script],
      { cwd: ROOT, timeout: 30_000 },
      (err, stdout) => {
        // A process killed on purpose: what it wrote before is the answer.
        if (err && err.signal !== 'SIGKILL') return reject(err);
        resolve(
          stdout
            .split('\n')
            .filter(Boolean)
            .map((l) => (JSON.parse(l) as { msg: string }).msg),
        );
      },
    );
  });
}

describe('the process log (batched stdout)', () => {
  it('writes every line of a busy spell, in order, when the process exits at once', async () => {
    const msgs = await logged(`for (let i = 0; i < 500; i++) logger.info('line ' + i);
setTimeout(() => { logger.info('last'); process.exit(0); }, 20);`);
    expect(msgs).toEqual([...Array.from({ length: 500 }, (_, i) => `line ${i}`), 'last']);
  });

  it('writes a line of a quiet process without waiting for its exit', async () => {
    // Killed outright, the process runs no exit handler: only what was written before is there.
    const msgs = await logged(`logger.info('started');
setTimeout(() => { logger.info('busy'); logger.info('busier'); }, 50);
setTimeout(() => process.kill(process.pid, 'SIGKILL'), 1000);`);
    expect(msgs).toEqual(['started', 'busy', 'busier']);
  });
});
