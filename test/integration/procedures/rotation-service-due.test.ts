import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import pino from 'pino';
import type { CredentialSpec } from '../../../src/domain/credential';
import type { SecretStore, StoredCredential } from '../../../src/domain/ports';
import { RotationService, type RotationServiceDeps } from '../../../src/procedures/rotation-service';
import { RunStore } from '../../../src/queue/run-store';
import { deletePrefix, testRedis } from '../../helpers/redis';

const NOW = new Date('2026-11-26T10:00:00Z');
let redis: Redis;
let prefix: string;
beforeEach(() => {
  redis = testRedis();
  prefix = `test-${randomUUID()}`;
});
afterEach(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const specOf = (name: string) =>
  ({ name, type: 'api_key', risk: 'standard', store: `api-credentials/${name}` }) as CredentialSpec;

describe('RotationService.due', () => {
  it('reads each credential once with bounded concurrency and marks the ones a run holds', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `credential-${i}`);
    let inFlight = 0;
    let peak = 0;
    const store = {
      read: async (path: string): Promise<StoredCredential> => {
        inFlight += 1;
        peak = Math.max(peak, inFlight);
        await new Promise((r) => setTimeout(r, 1));
        inFlight -= 1;
        const days = path.endsWith('-7') ? 120 : 10;
        const rotatedAt = new Date(NOW.getTime() - days * 86_400_000).toISOString();
        return { path, version: 1, createdTime: rotatedAt, rotatedAt };
      },
    } as unknown as SecretStore;
    const runs = new RunStore(redis, prefix);
    await runs.acquire('credential-7', 'run-1', 60_000);
    const service = new RotationService({
      catalog: new Map(names.map((n) => [n, specOf(n)])),
      store,
      runs,
      clock: { now: () => NOW },
      logger: pino({ level: 'silent' }),
      lockTtlMs: 60_000,
      dueSoonDays: 14,
      inventoryConcurrency: 16,
    } as unknown as RotationServiceDeps);
    const due = await service.due();
    expect(peak).toBeLessThanOrEqual(16);
    expect(due).toHaveLength(300);
    expect(due.find((d) => d.name === 'credential-7')).toMatchObject({
      active: true,
      age: { status: 'overdue' },
    });
    expect(due.filter((d) => d.active)).toHaveLength(1);
  });
});
