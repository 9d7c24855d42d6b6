import type { Redis } from 'ioredis';

export interface RedisPersistence {
  appendonly?: string;
  save?: string;
  maxmemoryPolicy?: string;
}

/**
 * What would be lost with this Redis: nothing on disk (no AOF, no RDB snapshots) loses every run,
 * lock and audit record on restart; an eviction policy drops them under memory pressure.
 */
export function durabilityProblems(p: RedisPersistence): string[] {
  const problems: string[] = [];
  if (p.appendonly !== 'yes' && (p.save ?? '').trim() === '')
    problems.push('it keeps nothing on disk (appendonly no, save "")');
  if (p.maxmemoryPolicy !== undefined && p.maxmemoryPolicy !== 'noeviction')
    problems.push(`it evicts keys under memory pressure (maxmemory-policy ${p.maxmemoryPolicy})`);
  return problems;
}

/** Reads the settings with CONFIG GET; undefined when the server refuses (managed Redis often does). */
export async function readPersistence(redis: Redis): Promise<RedisPersistence | undefined> {
  try {
    const get = async (name: string) => ((await redis.config('GET', name)) as string[])[1];
    const [appendonly, save, maxmemoryPolicy] = await Promise.all([
      get('appendonly'),
      get('save'),
      get('maxmemory-policy'),
    ]);
    return {
      ...(appendonly !== undefined ? { appendonly } : {}),
      ...(save !== undefined ? { save } : {}),
      ...(maxmemoryPolicy !== undefined ? { maxmemoryPolicy } : {}),
    };
  } catch {
    return undefined;
  }
}
