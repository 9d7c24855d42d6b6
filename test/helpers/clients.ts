import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Fails (never skips) a suite whose official client is missing, in one line: a double that only
 * its own client was checked against proves little.
 */
export function requireClient(command: string, install: string): void {
  const found = (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (!found) throw new Error(`${command} is not on PATH: this suite drives the doubles with it; ${install}`);
}

/** Runs a client to completion; a non-zero exit is an outcome to assert on, not an exception. */
export function runClient(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {},
): Promise<ClientRun> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 16 * 1024 * 1024,
        ...(opts.cwd ? { cwd: opts.cwd } : {}),
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        if (error && code === null && !('killed' in error && error.killed)) return reject(error);
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A long-running client (kubectl get -w): its output so far, and its exit. */
export interface ClientProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves once the output so far satisfies `check`; rejects after `timeoutMs`. */
  until(check: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  exited: Promise<ClientRun>;
}

export function startClient(command: string, args: string[], env: NodeJS.ProcessEnv): ClientProcess {
  const child = spawn(command, args, { env });
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    waiters.forEach((w) => w());
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<ClientRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
  const kill = setTimeout(() => child.kill('SIGKILL'), 60_000);
  void exited.then(() => clearTimeout(kill));
  return {
    child,
    output: () => stdout,
    exited,
    until: (check, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const look = () => {
          if (!check(stdout)) return;
          waiters.delete(look);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(look);
          reject(
            new Error(
              `${command} ${args.join(' ')} did not print what was expected; it printed: ${stdout}${stderr}`,
            ),
          );
        }, timeoutMs);
        waiters.add(look);
        look();
      }),
  };
}
