import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld, type World } from '../../sandbox/world';
import { loadedPackages } from '../helpers/loaded-packages';
import { deletePrefix, REDIS_URL, testRedis } from '../helpers/redis';
import { buildServerArtifact, type ServerArtifact } from '../helpers/server-artifact';

/**
 * Starts `role` in a fresh process against the doubles, configured as main configures it, stops
 * it, and answers what it had loaded. The output also names the project files and packages whose
 * code ran, by path: cron-parser's place in the module cache may hold a stand-in (src/wiring.ts).
 */
const startAndStop = (role: string, env: Record<string, string>) => `
  const { createLogger } = require('./src/logger');
  const { loadRoleConfig, startRole } = require('./src/main');
  const running = await startRole('${role}', loadRoleConfig('${role}', ${JSON.stringify(env)}), createLogger('warn'));
  await running.stop();
  return '${role} started';
`;

/**
 * The same, from the bundle the image runs (dist/main.bundle.js, loaded as src/entry.ts loads it):
 * the project's code and the bundled packages are one file there, so what it loaded shows as the
 * files of the packages left out of it (the worker-only clients among them).
 */
const bundledFiles = (bundle: string, role: string, env: Record<string, string>) => `
  const { requireWithCodeCache } = require('./src/code-cache');
  const { createLogger } = require('./src/logger');
  const { loadRoleConfig, startRole } = requireWithCodeCache(${JSON.stringify(bundle)}, { writeAtExit: false });
  const running = await startRole('${role}', loadRoleConfig('${role}', ${JSON.stringify(env)}), createLogger('warn'));
  await running.stop();
  // Every file, the packages' too: loadedPackages answers only the project's own.
  return JSON.stringify(Object.keys(require.cache));
`;

/** The packages of `files` (paths under node_modules), by name, as loadedPackages names them. */
const packagesOf = (files: string[]) =>
  [
    ...new Set(
      files
        .filter((f) => f.includes('/node_modules/'))
        .map((f) => {
          const [scope, name] = f.slice(f.lastIndexOf('/node_modules/') + 14).split('/');
          return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
        }),
    ),
  ].sort();

const WORKER_ONLY = /^(node-vault|@kubernetes\/client-node|@aws-sdk\/.*|pg|pg-.*|mysql2)$/;

/** cron-parser's own code (beyond the entry a stand-in may hold) and its time-zone library. */
const cronParserCode = (files: string[]) =>
  files.filter((f) => /node_modules\/(cron-parser\/dist\/(?!index\.js$)|luxon\/)/.test(f));

/** The loaded files of every package, by path (loadedPackages names only the project's own). */
const allFiles = (role: string, env: Record<string, string>) =>
  startAndStop(role, env).replace(
    `return '${role} started';`,
    `return JSON.stringify(Object.keys(require.cache));`,
  );

describe('the roles', () => {
  let world: World;
  let dir: string;
  let env: Record<string, string>;
  const prefix = `test-${randomUUID()}`;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rotator-roles-'));
    world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: prefix });
    env = { ...world.env, PORT: '0', LOG_LEVEL: 'warn' };
  });
  afterAll(async () => {
    const redis = testRedis();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('the web role', () => {
    it('starts with Bolt, Redis and the BullMQ queue only: no store, cluster, issuer or database client, no engine or jobs', async () => {
      const { output, packages, files } = await loadedPackages(startAndStop('web', env));
      expect(output).toBe('web started');
      expect(packages).toEqual(expect.arrayContaining(['@slack/bolt', 'ioredis', 'bullmq']));
      expect(packages.filter((p) => WORKER_ONLY.test(p))).toEqual([]);
      const workerFiles = files.filter((f) =>
        /^(src\/adapters\/(deployers|issuers|verifiers|store)\/|src\/procedures\/(engine|reconciler|scope|old-key-deletion|steps\/)|src\/wiring-worker|jobs\/)/.test(
          f,
        ),
      );
      // vault-fields is the store's layout (which field holds the value), known without its client.
      expect(workerFiles.filter((f) => f !== 'src/adapters/store/vault-fields.ts')).toEqual([]);
    }, 60_000);

    it('does not check the reminder schedule: neither the cron parser nor its time-zone library is loaded', async () => {
      const { output } = await loadedPackages(allFiles('web', env));
      const files = JSON.parse(output) as string[];
      expect(files.some((f) => f.includes('/node_modules/bullmq/'))).toBe(true);
      expect(cronParserCode(files)).toEqual([]);
    }, 60_000);
  });

  describe('built as the image runs them (one bundle, src/entry.ts)', () => {
    let artifact: ServerArtifact;
    beforeAll(async () => {
      artifact = await buildServerArtifact();
    }, 120_000);
    afterAll(() => artifact?.remove());

    it('leaves the worker-only clients, the cron parser and its time-zone library out of the bundle', () => {
      const packages = packagesOf(artifact.inputs.map((f) => `/${f}`));
      expect(packages).toEqual(expect.arrayContaining(['@slack/bolt', 'bullmq', 'ioredis']));
      expect(packages.filter((p) => WORKER_ONLY.test(p) || p === 'cron-parser' || p === 'luxon')).toEqual([]);
    });

    it('starts the web role without loading them', async () => {
      const { output, packages } = await loadedPackages(bundledFiles(artifact.bundle, 'web', env));
      const files = JSON.parse(output) as string[];
      // The packages left out of the bundle are loaded from node_modules as before: this one at start.
      expect(packages).toContain('mime-db');
      expect(packages.filter((p) => WORKER_ONLY.test(p))).toEqual([]);
      expect(cronParserCode(files)).toEqual([]);
    }, 60_000);

    it('starts the worker with the cluster client and the cron parser, but no issuer client', async () => {
      const { output, packages } = await loadedPackages(bundledFiles(artifact.bundle, 'worker', env));
      const files = JSON.parse(output) as string[];
      expect(packages).toContain('@kubernetes/client-node');
      expect(cronParserCode(files).length).toBeGreaterThan(0);
      expect(packages.filter((p) => /^(@aws-sdk\/.*|pg|mysql2)$/.test(p))).toEqual([]);
    }, 60_000);
  });

  describe('the worker role', () => {
    it('loads the engine, the jobs and the cluster client, and the cron parser to schedule the digest', async () => {
      const { output } = await loadedPackages(allFiles('worker', env));
      const all = JSON.parse(output) as string[];
      expect(all.some((f) => f.includes('/node_modules/@kubernetes/client-node/'))).toBe(true);
      expect(cronParserCode(all).length).toBeGreaterThan(0);
      const { packages, files } = await loadedPackages(startAndStop('worker', env));
      expect(files).toEqual(
        expect.arrayContaining(['src/procedures/engine.ts', 'jobs/index.ts', 'jobs/slack-request-job.ts']),
      );
      // Slack's Web API client posts; Bolt and its HTTP server are the web role's.
      expect(packages).not.toContain('@slack/bolt');
    }, 60_000);

    it('loads no issuer client until a credential of its kind needs it', async () => {
      const { packages, files } = await loadedPackages(startAndStop('worker', env));
      expect(packages.filter((p) => /^(@aws-sdk\/.*|pg|pg-.*|mysql2)$/.test(p))).toEqual([]);
      expect(files.filter((f) => f.startsWith('src/adapters/issuers/'))).toEqual([]);
    }, 60_000);

    it('loads an issuer kind, and only it, when a credential of that kind is first rotated', async () => {
      const script = startAndStop('worker', env).replace(
        `await running.stop();`,
        `const parts = await running.services.worker();
         const spec = running.services.config.catalog.credentials.get('payment-gateway-api');
         parts.issuerFor(spec);
         await running.stop();`,
      );
      const { packages, files } = await loadedPackages(script);
      expect(files).toContain('src/adapters/issuers/rest-api-key-issuer.ts');
      expect(files.filter((f) => /issuers\/(aws-iam|postgres|mariadb|database)/.test(f))).toEqual([]);
      expect(packages.filter((p) => /^(@aws-sdk\/.*|pg|mysql2)$/.test(p))).toEqual([]);
    }, 60_000);
  });
});
