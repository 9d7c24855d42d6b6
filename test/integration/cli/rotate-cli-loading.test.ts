import { loadedPackages } from '../../helpers/loaded-packages';

const UNREACHABLE = { redisUrl: 'redis://127.0.0.1:1', prefix: 'rotator-cli-loading', waitMs: 1_000 };
const cli = (argv: string[]) =>
  `return require('./src/cli/rotate').rotateCli(${JSON.stringify(argv)}, ${JSON.stringify(UNREACHABLE)})`;

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
    it('loads them to send the request (here to a Redis that is not there)', async () => {
      const { output, packages } = await loadedPackages(cli(['payment-gateway-api', '--dry-run']));
      expect(output).toBe('3');
      expect(packages).toEqual(expect.arrayContaining(['bullmq', 'ioredis']));
    });
  });
});
