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
    it('starts without loading the Kubernetes client, the issuers, the engine or the jobs', async () => {
      const { output, packages, files } = await loadedPackages(startAndStop('web', env));
      expect(output).toBe('web started');
      expect(packages).toContain('@slack/bolt');
      expect(packages).not.toContain('@kubernetes/client-node');
      const workerOnly = files.filter((f) =>
        /^(src\/adapters\/(deployers|issuers|verifiers)\/|src\/procedures\/(engine|reconciler|steps\/)|jobs\/)/.test(
          f,
        ),
      );
      expect(workerOnly).toEqual([]);
    }, 60_000);
  });

  describe('the worker role', () => {
    it('loads it, to deploy', async () => {
      const { output, packages, files } = await loadedPackages(startAndStop('worker', env));
      expect(output).toBe('worker started');
      expect(packages).toContain('@kubernetes/client-node');
      expect(files).toEqual(expect.arrayContaining(['src/procedures/engine.ts', 'jobs/index.ts']));
    }, 60_000);
  });
});
