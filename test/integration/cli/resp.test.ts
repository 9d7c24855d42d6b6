import { randomUUID } from 'node:crypto';
import { RespConnection, redisTarget } from '../../../src/cli/resp';
import { deletePrefix, REDIS_URL, testRedis } from '../../helpers/redis';

describe('the CLI’s Redis connection', () => {
  const redis = testRedis();
  const prefix = `test-${randomUUID()}`;
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it('answers commands sent before it connected, in order, an error only to its own command', async () => {
    const conn = RespConnection.open(redisTarget(REDIS_URL));
    try {
      const key = `${prefix}:k`;
      const replies = [
        conn.command(['SET', key, 'v']),
        conn.command(['HGET', key, 'f']),
        conn.command(['GET', key]),
        conn.command(['XREVRANGE', `${prefix}:none`, '+', '-', 'COUNT', 1]),
      ];
      await expect(replies[0]).resolves.toBe('OK');
      await expect(replies[1]).rejects.toThrow(/WRONGTYPE/);
      await expect(replies[2]).resolves.toBe('v');
      await expect(replies[3]).resolves.toEqual([]);
    } finally {
      conn.close();
    }
  });

  it('fails every command when no Redis is there', async () => {
    const conn = RespConnection.open(redisTarget('redis://127.0.0.1:1'));
    await expect(conn.command(['PING'])).rejects.toThrow(/ECONNREFUSED/);
    await expect(conn.command(['PING'])).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives a command AUTH’s error when AUTH failed', async () => {
    const url = new URL(REDIS_URL);
    url.username = `nobody-${randomUUID()}`;
    url.password = 'wrong';
    const conn = RespConnection.open(redisTarget(url.toString()));
    try {
      await expect(conn.command(['PING'])).rejects.toThrow(/WRONGPASS|invalid username-password/i);
    } finally {
      conn.close();
    }
  });

  it('gives up on a Redis that does not answer in time', async () => {
    const conn = RespConnection.open(redisTarget(REDIS_URL), 200);
    try {
      await expect(conn.command(['BLPOP', `${prefix}:empty`, 1])).rejects.toThrow(/did not answer within/);
    } finally {
      conn.close();
    }
  });

  it('uses the database in the URL’s path', async () => {
    const url = new URL(REDIS_URL);
    url.pathname = '/1';
    const conn = RespConnection.open(redisTarget(url.toString()));
    try {
      await conn.command(['SET', `${prefix}:db`, '1']);
      expect(await redis.exists(`${prefix}:db`)).toBe(0);
      await conn.command(['DEL', `${prefix}:db`]);
    } finally {
      conn.close();
    }
  });
});
