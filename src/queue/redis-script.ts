import { createHash } from 'node:crypto';
import type { ChainableCommander, Redis } from 'ioredis';

type ScriptCall = (...keysAndArgs: Array<string | number>) => Promise<unknown>;
type Arg = string | number;

/**
 * A Lua script registered with ioredis `defineCommand` on each connection it runs on, once: calls
 * go out as EVALSHA, and ioredis sends the script body (EVAL) only the first time on a socket or
 * when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH).
 */
export class RedisScript {
  private readonly name: string;

  constructor(
    private readonly lua: string,
    private readonly numberOfKeys: number,
  ) {
    this.name = `rotator_${createHash('sha1').update(lua).digest('hex').slice(0, 16)}`;
  }

  /** Registers the script on `redis` unless it is already; pipelines made afterwards carry it too. */
  on(redis: Redis): Redis {
    if (!(this.name in redis))
      redis.defineCommand(this.name, { numberOfKeys: this.numberOfKeys, lua: this.lua });
    return redis;
  }

  run(redis: Redis, keys: string[], ...args: Arg[]): Promise<unknown> {
    return this.callOn(this.on(redis), keys, args);
  }

  /** Adds a call to a pipeline or transaction made from a connection this script is registered `on`. */
  queue(pipeline: ChainableCommander, keys: string[], ...args: Arg[]): ChainableCommander {
    void this.callOn(pipeline, keys, args);
    return pipeline;
  }

  private callOn(target: Redis | ChainableCommander, keys: string[], args: Arg[]): Promise<unknown> {
    const call = (target as unknown as Record<string, ScriptCall | undefined>)[this.name];
    if (!call) throw new Error(`script ${this.name} is not registered on this connection`);
    return call.call(target, ...keys, ...args);
  }
}
