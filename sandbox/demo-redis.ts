import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { delimiter, join } from 'node:path';

/** Why the demo cannot have a Redis: one line a person can act on. */
export class DemoSetupError extends Error {}

export interface DemoRedis {
  url: string;
  /** True when the demo started redis-server itself (and stops it with `stop`). */
  started: boolean;
  stop(): Promise<void>;
}

export interface EnsureRedisOptions {
  /** REDIS_URL when set: used as is, and it must answer. */
  url?: string;
  /** Where to look when REDIS_URL is unset (default redis://127.0.0.1:6379). */
  defaultUrl?: string;
  /** The demo's directory: a started redis-server keeps its files in <dir>/redis. */
  dir: string;
  /** The PATH to find redis-server on (default process.env.PATH). */
  path?: string;
}

const INSTALL_HINT =
  'install Redis (apt-get install redis-server, brew install redis) or run `docker compose up redis`, then npm run demo again';

/** Whether something speaking RESP answers at `url` (PING, without a client library's error events). */
export function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect({ host: hostname || '127.0.0.1', port: Number(port || 6379) });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    // +PONG, or -NOAUTH / -ERR from a Redis that wants a password: either way a Redis is there.
    socket.once('data', (d: Buffer) => done(/^[+-]/.test(d.toString('latin1'))));
  });
}

function onPath(command: string, path: string): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 3_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/**
 * The demo's Redis: REDIS_URL when set; otherwise whatever answers on the default port; otherwise a
 * redis-server from PATH on a free port, durable (AOF) with its files under <dir>/redis. With none of
 * these it throws a DemoSetupError saying how to get one.
 */
export async function ensureRedis(opts: EnsureRedisOptions): Promise<DemoRedis> {
  const none = { started: false, stop: () => Promise.resolve() };
  if (opts.url) {
    if (await answers(opts.url)) return { url: opts.url, ...none };
    throw new DemoSetupError(
      `npm run demo: no Redis answers at REDIS_URL=${opts.url}; start it, or unset REDIS_URL to let the demo start redis-server`,
    );
  }
  const defaultUrl = opts.defaultUrl ?? 'redis://127.0.0.1:6379';
  if (await answers(defaultUrl)) return { url: defaultUrl, ...none };
  const binary = onPath('redis-server', opts.path ?? process.env.PATH ?? '');
  if (!binary) {
    throw new DemoSetupError(
      `npm run demo needs Redis: nothing answers at ${defaultUrl} and there is no redis-server on PATH; ${INSTALL_HINT}`,
    );
  }
  const dir = join(opts.dir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const logfile = join(dir, 'redis.log');
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--logfile',
      logfile,
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore' },
  );
  const url = `redis://127.0.0.1:${port}`;
  const failed = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(e.message));
    child.once('exit', (code) => resolve(`exited with code ${String(code)}`));
  });
  for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
    const outcome = await Promise.race([answers(url, 200), failed]);
    if (outcome === true) return { url, started: true, stop: () => stopChild(child) };
    if (typeof outcome === 'string') {
      const log = (() => {
        try {
          return readFileSync(logfile, 'utf8').trim().split('\n').at(-1) ?? '';
        } catch {
          return '';
        }
      })();
      throw new DemoSetupError(`npm run demo: ${binary} ${outcome}${log ? `: ${log}` : ''}; ${INSTALL_HINT}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await stopChild(child);
  throw new DemoSetupError(
    `npm run demo: ${binary} did not answer on port ${port} within 10 s; ${INSTALL_HINT}`,
  );
}
