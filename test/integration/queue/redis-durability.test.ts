import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { startRole } from '../../../src/main';
import { durabilityProblems, readPersistence } from '../../../src/queue/redis-durability';
import { startWorld, type World } from '../../../sandbox/world';
import { LogCapture } from '../../helpers/log-capture';
import { deletePrefix, REDIS_URL, testRedis } from '../../helpers/redis';

/** The test Redis keeps nothing on disk (as CI starts it), so the bot must refuse it unless allowed. */
describe('start-up against the test Redis', () => {
  const redis = testRedis();
  let world: World;
  let dir: string;
  let prefix: string;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rotator-'));
    prefix = `test-${randomUUID()}`;
    world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: prefix });
  });
  afterEach(async () => {
    await world.close();
    await deletePrefix(redis, prefix);
    rmSync(dir, { recursive: true, force: true });
  });
  afterAll(() => redis.disconnect());

  it('reads the real settings and refuses to start on a Redis that would lose runs', async () => {
    const persistence = await readPersistence(redis);
    expect(persistence?.appendonly).toMatch(/^(yes|no)$/);
    const problems = durabilityProblems(persistence!);
    const env = { ...world.env, PORT: '0', ALLOW_EPHEMERAL_REDIS: 'false' };
    const logs = new LogCapture();
    const starting = startRole('worker', loadConfig(env), createLogger('info', logs));
    if (problems.length === 0) {
      await (await starting).stop();
      return;
    }
    await expect(starting).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('ALLOW_EPHEMERAL_REDIS=true'),
    });
  });

  it('starts with a loud warning when ALLOW_EPHEMERAL_REDIS=true', async () => {
    const problems = durabilityProblems((await readPersistence(redis))!);
    const logs = new LogCapture();
    const running = await startRole(
      'worker',
      loadConfig({ ...world.env, PORT: '0', ALLOW_EPHEMERAL_REDIS: 'true' }),
      createLogger('info', logs),
    );
    await running.stop();
    expect(logs.text().includes('EPHEMERAL REDIS')).toBe(problems.length > 0);
  });
});
