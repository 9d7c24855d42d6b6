import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import IORedis from 'ioredis';
import { answers, DemoSetupError, ensureRedis, type DemoRedis } from '../../../sandbox/demo-redis';

const run = promisify(execFile);
const ROOT = join(__dirname, '../../..');
const TSX = join(ROOT, 'node_modules/.bin/tsx');

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface DemoProcess {
  /** The ready line, parsed; rejects when the demo exits first. */
  ready: Promise<Record<string, string>>;
  exited: Promise<Exited>;
  interrupt(): void;
}

/** `npm run demo` (tsx sandbox/demo.ts) as a child process. */
function startDemo(env: Record<string, string>): DemoProcess {
  const child = spawn(TSX, ['sandbox/demo.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  });
  let stdout = '';
  let stderr = '';
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const exited = new Promise<Exited>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const ready = new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const line = stdout.split('\n')[0];
      if (stdout.includes('\n') && line) resolve(JSON.parse(line) as Record<string, string>);
    });
    void exited.then((e) =>
      reject(new Error(`the demo exited (${e.code}) before it was ready: ${e.stderr}`)),
    );
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A test that expects the demo to refuse never waits for it to be ready.
  ready.catch(() => undefined);
  return { ready, exited, interrupt: () => child.kill('SIGINT') };
}

describe('the demo on a bare machine', () => {
  let dir: string;
  const started: DemoRedis[] = [];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'demo-'));
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  describe('when REDIS_URL is unset and nothing answers on the default port', () => {
    it('starts redis-server from PATH on a free port, durable, with its files in the demo directory, and stops it', async () => {
      const defaultUrl = `redis://127.0.0.1:${await closedPort()}`;
      const redis = await ensureRedis({ defaultUrl, dir });
      started.push(redis);
      expect(redis.started).toBe(true);
      expect(redis.url).not.toBe(defaultUrl);
      const client = new IORedis(redis.url, { lazyConnect: true });
      try {
        await client.connect();
        expect(await client.ping()).toBe('PONG');
        expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
        expect(await client.config('GET', 'dir')).toEqual(['dir', join(dir, 'redis')]);
      } finally {
        client.disconnect();
      }
      expect(existsSync(join(dir, 'redis', 'redis.log'))).toBe(true);
      await redis.stop();
      expect(await answers(redis.url)).toBe(false);
    });

    it('says in one line how to get Redis when there is no redis-server either', async () => {
      const defaultUrl = `redis://127.0.0.1:${await closedPort()}`;
      const attempt = ensureRedis({ defaultUrl, dir, path: join(dir, 'empty-bin') });
      await expect(attempt).rejects.toBeInstanceOf(DemoSetupError);
      await expect(attempt).rejects.toThrow(
        /^npm run demo needs Redis: nothing answers at redis:\/\/127\.0\.0\.1:\d+ and there is no redis-server on PATH; install Redis \(apt-get install redis-server, brew install redis\) or run `docker compose up redis`, then npm run demo again$/,
      );
    });
  });

  describe('when REDIS_URL names a Redis that is not there', () => {
    it('exits 2 with one clear line and no unhandled error event', async () => {
      const url = `redis://127.0.0.1:${await closedPort()}`;
      const out = await startDemo({ REDIS_URL: url, DEMO_DIR: dir }).exited;
      expect(out.code).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr.trim().split('\n')).toEqual([
        `npm run demo: no Redis answers at REDIS_URL=${url}; start it, or unset REDIS_URL to let the demo start redis-server`,
      ]);
    }, 30_000);
  });

  describe('when it starts', () => {
    it("prints a ready line with what each double's own client needs, and kubectl and curl work with it", async () => {
      const redis = await ensureRedis({ defaultUrl: `redis://127.0.0.1:${await closedPort()}`, dir });
      started.push(redis);
      const d = startDemo({ REDIS_URL: redis.url, DEMO_DIR: dir, PORT: '0', LOG_LEVEL: 'warn' });
      try {
        const ready = await d.ready;
        expect(ready).toMatchObject({
          sandbox: 'ready',
          slackBotToken: expect.stringMatching(/^xoxb-/),
          vaultToken: expect.stringMatching(/^hvs\./),
          vaultAuditLog: join(dir, 'vault-audit.log'),
          kubeconfig: join(dir, 'kubeconfig'),
          kubernetesCa: join(dir, 'kubernetes-ca.crt'),
          kubernetes: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/),
          providerAdminTokens: { PAYMENT_PROVIDER_ADMIN_TOKEN: expect.stringMatching(/^admin_/) },
          iam: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
          iamAdmin: { AWS_ACCESS_KEY_ID: expect.stringMatching(/^AKIA/), AWS_DEFAULT_REGION: 'us-east-1' },
          redis: redis.url,
        });
        const env = {
          ...process.env,
          KUBECONFIG: ready.kubeconfig!,
          HOME: dir,
          KUBECACHEDIR: join(dir, 'kube-cache'),
        };
        const kubectl = await run(
          'kubectl',
          ['get', 'deployment', 'web-app', '-o', 'jsonpath={.metadata.namespace}'],
          { env },
        );
        expect(kubectl.stdout).toBe('payments');
        const list = await run('curl', [
          '-sf',
          '-X',
          'LIST',
          '-H',
          `X-Vault-Token: ${ready.vaultToken!}`,
          `${ready.vault!}/v1/secret/metadata/api-credentials/`,
        ]);
        expect((JSON.parse(list.stdout) as { data: { keys: string[] } }).data.keys).toEqual([
          'crm-integration',
          'integration-service-account',
          'monitoring-service',
          'partner-portal-key',
          'payment-gateway-api',
          'reporting-sso-client',
        ]);
      } finally {
        d.interrupt();
      }
      expect((await d.exited).code).toBe(0);
      // A Redis the demo did not start is not the demo's to stop.
      expect(await answers(redis.url)).toBe(true);
    }, 90_000);
  });
});
