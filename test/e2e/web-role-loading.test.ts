import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld, type World } from '../../sandbox/world';
import { loadedPackages } from '../helpers/loaded-packages';
import { deletePrefix, REDIS_URL, testRedis } from '../helpers/redis';

/** Starts `role` in a fresh process against the doubles, stops it, and answers what it had loaded. */
const startAndStop = (role: string, env: Record<string, string>) => `
  const { loadConfig } = require('./src/config');
  const { createLogger } = require('./src/logger');
  const { startRole } = require('./src/main');
  const running = await startRole('${role}', loadConfig(${JSON.stringify(env)}), createLogger('warn'));
  await running.stop();
  return '${role} started';
`;

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
      const workerOnly = packages.filter((p) =>
        /^(node-vault|@kubernetes\/client-node|@aws-sdk\/.*|pg|pg-.*|mysql2)$/.test(p),
      );
      expect(workerOnly).toEqual([]);
      const workerFiles = files.filter((f) =>
        /^(src\/adapters\/(deployers|issuers|verifiers|store)\/|src\/procedures\/(engine|reconciler|scope|old-key-deletion|steps\/)|src\/wiring-worker|jobs\/)/.test(
          f,
        ),
      );
      // vault-fields is the store's layout (which field holds the value), known without its client.
      expect(workerFiles.filter((f) => f !== 'src/adapters/store/vault-fields.ts')).toEqual([]);
    }, 60_000);
  });

  describe('the worker role', () => {
    it('loads it, to deploy', async () => {
      const { output, packages, files } = await loadedPackages(startAndStop('worker', env));
      expect(output).toBe('worker started');
      expect(packages).toEqual(expect.arrayContaining(['@kubernetes/client-node', '@aws-sdk/client-iam']));
      expect(files).toEqual(
        expect.arrayContaining(['src/procedures/engine.ts', 'jobs/index.ts', 'jobs/slack-request-job.ts']),
      );
    }, 60_000);
  });
});
