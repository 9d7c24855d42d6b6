import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { RedisScript } from '../../../src/queue/redis-script';
import { testRedis } from '../../helpers/redis';

/** The last command a connection ran, as the server saw it. */
async function lastCommand(observer: Redis, client: Redis): Promise<string | undefined> {
  const id = String(await client.client('ID'));
  const line = String(await observer.client('LIST', 'ID', id));
  return /\bcmd=(\S+)/.exec(line)?.[1];
}

describe('RedisScript', () => {
  let client: Redis;
  let observer: Redis;
  beforeEach(() => {
    client = testRedis();
    observer = testRedis();
  });
  afterEach(async () => {
    await client.quit();
    await observer.quit();
  });

  it('sends the script body once per connection, then only its SHA', async () => {
    // A script no connection has loaded yet.
    const script = new RedisScript(`-- ${randomUUID()}\nreturn ARGV[1] .. KEYS[1]`, 1);
    const id = String(await client.client('ID'));
    expect(await script.run(client, ['k'], 'a')).toBe('ak');
    const first = String(await observer.client('LIST', 'ID', id));
    expect(await script.run(client, ['k'], 'b')).toBe('bk');
    const second = String(await observer.client('LIST', 'ID', id));
    expect(/\bcmd=(\S+)/.exec(first)?.[1]).toBe('eval');
    expect(/\bcmd=(\S+)/.exec(second)?.[1]).toBe('evalsha');
  });

  it('runs in a pipeline made after it was registered', async () => {
    const script = new RedisScript(`return tonumber(ARGV[1]) + 1`, 0);
    script.on(client);
    script.on(client); // registering twice is harmless
    const results = await script.queue(client.pipeline(), [], 41).exec();
    expect(results).toEqual([[null, 42]]);
    expect(await lastCommand(observer, client)).toBeDefined();
  });
});
