import { durabilityProblems } from '../../../src/queue/redis-durability';

describe('durabilityProblems', () => {
  it.each([
    ['AOF on, noeviction', { appendonly: 'yes', save: '', maxmemoryPolicy: 'noeviction' }, 0],
    ['RDB snapshots only', { appendonly: 'no', save: '3600 1 300 100', maxmemoryPolicy: 'noeviction' }, 0],
  ])('accepts %s', (_name, p, n) => {
    expect(durabilityProblems(p)).toHaveLength(n);
  });

  it('names a Redis that keeps nothing on disk', () => {
    expect(durabilityProblems({ appendonly: 'no', save: '', maxmemoryPolicy: 'noeviction' })).toEqual([
      'it keeps nothing on disk (appendonly no, save "")',
    ]);
  });

  it('names an eviction policy, even with persistence', () => {
    expect(durabilityProblems({ appendonly: 'yes', save: '', maxmemoryPolicy: 'allkeys-lru' })).toEqual([
      'it evicts keys under memory pressure (maxmemory-policy allkeys-lru)',
    ]);
  });
});
