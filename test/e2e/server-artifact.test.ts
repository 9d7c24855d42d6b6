import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startWorld, type World } from '../../sandbox/world';
import { PROCESS_ENV } from '../../src/process-tuning';
import { eventually } from '../helpers/eventually';
import { deletePrefix, REDIS_URL, testRedis } from '../helpers/redis';
import { buildServerArtifact, type ServerArtifact } from '../helpers/server-artifact';
import { postSigned, slashCommandBody } from '../helpers/slack-signing';

const ROOT = join(__dirname, '../..');

interface Started {
  child: ChildProcess;
  /** The ready line's port (the web role's HTTP server). */
  port?: number;
  output: () => string;
}

interface Exited {
  code: number | null;
  stderr: string;
}

/** `node <entry> <role>` as the image runs it, until its "started" line. */
function startRole(artifact: ServerArtifact, role: string, env: Record<string, string>): Promise<Started> {
  const child = spawn(process.execPath, [artifact.entry, role], {
    cwd: ROOT,
    env: { ...process.env, ...env, ...PROCESS_ENV },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      output += `${line}\n`;
      if (!line.includes('credential-rotator started')) return;
      const port = (JSON.parse(line) as { port?: number }).port;
      resolve({ child, ...(port ? { port } : {}), output: () => output });
    });
    child.once('exit', (code) => reject(new Error(`${role} exited ${code} before it started:\n${output}`)));
  });
}

/** `node <entry> <role>` expected to stop on its own. */
function runUntilExit(artifact: ServerArtifact, role: string, env: Record<string, string>): Promise<Exited> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [artifact.entry, role],
      { cwd: ROOT, env: { ...env, ...PROCESS_ENV, PATH: process.env.PATH ?? '' }, timeout: 30_000 },
      (err, _stdout, stderr) => {
        if (err && err.killed) return reject(new Error(`${role} did not stop: ${stderr}`));
        resolve({ code: err ? (err.code as number) : 0, stderr });
      },
    );
  });
}

const stop = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });

/** Whether a fresh process, started as the image starts the roles, compiles the bundle from its cache. */
const cacheFits = (bundle: string) =>
  new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [
        '--import',
        'tsx',
        '--eval',
        `process.stdout.write(String(require('./src/code-cache').codeCacheFits(${JSON.stringify(bundle)})))`,
      ],
      { cwd: ROOT, timeout: 60_000 },
      (err, out, e) => (err ? reject(new Error(`${err.message}\n${e}`)) : resolve(out)),
    ),
  );

describe('the roles’ process as built for the image (node dist/main.js)', () => {
  let artifact: ServerArtifact;
  let world: World;
  let dir: string;
  let env: Record<string, string>;
  const prefix = `test-${randomUUID()}`;
  beforeAll(async () => {
    artifact = await buildServerArtifact();
    dir = mkdtempSync(join(tmpdir(), 'rotator-artifact-'));
    world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: prefix });
    env = { ...world.env, PORT: '0', LOG_LEVEL: 'info' };
  }, 120_000);
  afterAll(async () => {
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
    artifact?.remove();
  });

  it('comes with a code cache that this Node takes', async () => {
    expect(await cacheFits(artifact.bundle)).toBe('true');
  }, 60_000);

  it('starts a web role that acks a signed /rotate, and a worker that answers it', async () => {
    const web = await startRole(artifact, 'web', env);
    const worker = await startRole(artifact, 'worker', env);
    try {
      const res = await postSigned(
        `http://127.0.0.1:${web.port}/slack/events`,
        env.SLACK_SIGNING_SECRET!,
        slashCommandBody({
          text: 'plan payment-gateway-api',
          user: 'U0ALICE',
          channel: 'C_PAYMENTS',
          responseUrl: world.slack.responseUrl('artifact-plan'),
        }),
      );
      expect(res.status).toBe(200);
      const answer = () =>
        world.slack.calls().find((c) => c.method === 'response_url' && c.responseUrlId === 'artifact-plan');
      await eventually(() => answer() !== undefined, {
        timeoutMs: 30_000,
        describe: () => `no answer yet; web:\n${web.output()}\nworker:\n${worker.output()}`,
      });
      expect(JSON.stringify(answer()!.args)).toContain('payment-gateway-api');
    } finally {
      await Promise.all([stop(web.child), stop(worker.child)]);
    }
  }, 90_000);

  it('stops at start-up (exit 2) with one message when the configuration is invalid', async () => {
    const { SLACK_SIGNING_SECRET: _dropped, ...withoutSecret } = env;
    const { code, stderr } = await runUntilExit(artifact, 'web', withoutSecret);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^configuration is invalid:\n {2}- SLACK_SIGNING_SECRET: /);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('refuses (exit 2) a Redis that would lose runs unless told it may', async () => {
    const { ALLOW_EPHEMERAL_REDIS: _dropped, ...strict } = env;
    const { code, stderr } = await runUntilExit(artifact, 'web', strict);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^Redis would lose in-flight runs, locks and the audit stream: /);
  }, 60_000);
});
