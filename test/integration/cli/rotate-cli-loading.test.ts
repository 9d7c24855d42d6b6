import { randomUUID } from 'node:crypto';
import { Worker } from 'bullmq';
import type { Plan } from '../../../src/domain/plan';
import { REQUESTS_QUEUE, type RequestResult } from '../../../src/queue/names';
import { loadedPackages } from '../../helpers/loaded-packages';
import { deletePrefix, REDIS_URL, testRedis } from '../../helpers/redis';

const UNREACHABLE = { redisUrl: 'redis://127.0.0.1:1', prefix: 'rotator-cli-loading', waitMs: 1_000 };
const cli = (argv: string[], opts: object = UNREACHABLE) =>
  `return require('./src/cli/rotate').rotateCli(${JSON.stringify(argv)}, ${JSON.stringify(opts)})`;

const PLAN = {
  credential: 'payment-gateway-api',
  type: 'api_key',
  risk: 'high',
  issuer: 'payment-provider.example.com',
  age: { status: 'ok', ageDays: 3, maxAgeDays: 30 },
  consumers: [],
  undeclared: [],
  drift: [],
  notices: [],
  steps: [],
} as unknown as Plan;

describe('the break-glass CLI', () => {
  describe('when the name is not a credential name', () => {
    it('refuses it before loading BullMQ or the Redis client', async () => {
      const { output, packages } = await loadedPackages(cli(['Payment Gateway', '--dry-run']));
      expect(output).toBe('2');
      expect(packages).not.toContain('bullmq');
      expect(packages).not.toContain('ioredis');
    });
  });

  describe('when the name is well formed', () => {
    const redis = testRedis();
    const blocking = testRedis(); // the worker blocks on its own connection
    const prefix = `test-${randomUUID()}`;
    afterAll(async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
      blocking.disconnect();
    });

    // The run's creation waits on the request: loading ioredis and BullMQ's classes cost it more
    // than the request itself (bench critical-path).
    it('sends the request and prints the answer without loading ioredis or BullMQ’s classes', async () => {
      const worker = new Worker(
        REQUESTS_QUEUE,
        async (): Promise<RequestResult> => ({ kind: 'plan', plan: PLAN }),
        {
          connection: blocking,
          prefix,
        },
      );
      try {
        await worker.waitUntilReady();
        const { output, packages } = await loadedPackages(
          cli(['payment-gateway-api', '--dry-run'], { redisUrl: REDIS_URL, prefix }),
        );
        expect(output).toBe('0');
        expect(packages).not.toContain('ioredis');
        expect(packages).not.toContain('msgpackr');
      } finally {
        await worker.close();
      }
    });

    it('says so when Redis is not there, still without them', async () => {
      const { output, packages } = await loadedPackages(cli(['payment-gateway-api', '--dry-run']));
      expect(output).toBe('3');
      expect(packages).not.toContain('ioredis');
    });
  });
});
