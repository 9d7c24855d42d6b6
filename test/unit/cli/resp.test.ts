import { parseReply, redisTarget } from '../../../src/cli/resp';

const parse = (s: string) => parseReply(Buffer.from(s), 0);

describe('parseReply', () => {
  it('reads each kind of RESP2 reply, with where the next one begins', () => {
    expect(parse('+OK\r\n')).toEqual(['OK', 5]);
    expect(parse(':42\r\n')).toEqual([42, 5]);
    expect(parse('$4\r\nhé!\r\n')).toEqual(['hé!', 10]);
    expect(parse('$-1\r\n')).toEqual([null, 5]);
    expect(parse('*-1\r\n')).toEqual([null, 5]);
    expect(parse('*2\r\n$1\r\na\r\n*1\r\n:1\r\n+next')).toEqual([['a', [1]], 19]);
  });

  it('answers an error reply as an Error, in place', () => {
    const [reply] = parse('*1\r\n-ERR nope\r\n')!;
    expect((reply as Error[])[0]).toEqual(new Error('ERR nope'));
  });

  it('waits for the rest of a reply that has not all arrived', () => {
    for (const partial of ['', '+OK', '$4\r\nhé', '$4\r\nhé!', '*2\r\n$1\r\na\r\n']) {
      expect(parse(partial)).toBeUndefined();
    }
  });

  it('refuses bytes that are not RESP', () => {
    expect(() => parse('HTTP/1.1 400\r\n')).toThrow(/not RESP/);
  });
});

describe('redisTarget', () => {
  it('reads host, port, credentials and database as ioredis does', () => {
    expect(redisTarget('redis://127.0.0.1:6379')).toEqual({ host: '127.0.0.1', port: 6379, tls: false });
    expect(redisTarget('rediss://u%40x:p%3Aw@redis.example.com/2')).toEqual({
      host: 'redis.example.com',
      port: 6379,
      tls: true,
      username: 'u@x',
      password: 'p:w',
      db: 2,
    });
    expect(redisTarget('redis://:secret@[::1]:7000')).toEqual({
      host: '::1',
      port: 7000,
      tls: false,
      password: 'secret',
    });
  });

  it('refuses what it would not read as ioredis does, rather than reach another database', () => {
    expect(() => redisTarget('redis://127.0.0.1:6379?db=3')).toThrow(/no options/);
    expect(() => redisTarget('redis://127.0.0.1:6379/zero')).toThrow(/database number/);
    expect(() => redisTarget('http://127.0.0.1:6379')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => redisTarget('127.0.0.1:6379')).toThrow();
  });
});
