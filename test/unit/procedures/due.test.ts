import type { CredentialSpec } from '../../../src/domain/credential';
import { assessAge } from '../../../src/domain/policy';
import type { StoredCredential } from '../../../src/domain/ports';
import { mapLimit } from '../../../src/procedures/bounded';
import { DUE_READ_CONCURRENCY, dueStatuses } from '../../../src/procedures/due';

const NOW = new Date('2026-11-26T10:00:00Z');
const specOf = (name: string) =>
  ({ name, type: 'api_key', risk: 'standard', store: `api-credentials/${name}` }) as CredentialSpec;
const specs = Array.from({ length: 10_000 }, (_, i) => specOf(`credential-${i}`));

/** A store whose reads take a tick and which records how many were in flight at once. */
function countingStore() {
  let inFlight = 0;
  const seen = { peak: 0, reads: 0 };
  const read = async (spec: CredentialSpec): Promise<StoredCredential> => {
    inFlight += 1;
    seen.reads += 1;
    seen.peak = Math.max(seen.peak, inFlight);
    await new Promise((r) => setImmediate(r));
    inFlight -= 1;
    const days = Number(spec.name.split('-')[1]) % 200;
    const rotatedAt = new Date(NOW.getTime() - days * 86_400_000).toISOString();
    return { path: spec.store, version: 1, createdTime: rotatedAt, rotatedAt };
  };
  return { read, seen };
}

const ageOf = (spec: CredentialSpec, stored: StoredCredential | undefined) =>
  assessAge({ type: spec.type, risk: spec.risk, rotatedAt: stored?.rotatedAt, now: NOW });

describe('dueStatuses over 10,000 credentials', () => {
  it('keeps at most 16 store reads in flight and reads each credential once', async () => {
    const { read, seen } = countingStore();
    const lockCalls: number[] = [];
    const result = await dueStatuses({
      specs,
      read,
      ageOf,
      lockHolders: async (names) => {
        lockCalls.push(names.length);
        return names.map((n) => (n === 'credential-42' ? 'run-7' : undefined));
      },
    });
    expect(DUE_READ_CONCURRENCY).toBe(16);
    expect(seen.peak).toBe(16);
    expect(seen.reads).toBe(10_000);
    expect(lockCalls).toEqual([10_000]);
    expect(result).toHaveLength(10_000);
    expect(result[42]).toMatchObject({
      name: 'credential-42',
      active: true,
      age: { status: 'ok', ageDays: 42 },
    });
    expect(result[150]).toMatchObject({ active: false, age: { status: 'overdue', ageDays: 150 } });
  });

  it('honours a smaller bound', async () => {
    const { read, seen } = countingStore();
    await dueStatuses({
      specs: specs.slice(0, 100),
      read,
      ageOf,
      lockHolders: async (n) => n.map(() => undefined),
      concurrency: 3,
    });
    expect(seen.peak).toBe(3);
  });

  it('fails when a read fails, and starts no further reads', async () => {
    let started = 0;
    const read = async (spec: CredentialSpec) => {
      started += 1;
      await new Promise((r) => setImmediate(r));
      if (spec.name === 'credential-20') throw new Error('vault unavailable');
      return undefined;
    };
    await expect(
      dueStatuses({ specs, read, ageOf, lockHolders: async (n) => n.map(() => undefined) }),
    ).rejects.toThrow('vault unavailable');
    expect(started).toBeLessThan(20 + 16 + 1);
  });
});

describe('mapLimit', () => {
  it('keeps the input order whatever order the calls finish in', async () => {
    const out = await mapLimit([30, 10, 20, 0], 2, async (ms) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    });
    expect(out).toEqual([30, 10, 20, 0]);
  });
});
