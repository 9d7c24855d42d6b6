/**
 * The smallest Redis client the break-glass CLI needs to send its request: one socket, commands
 * written at once (before the socket is even connected) and answered in order, RESP2 replies.
 * ioredis took longer to load (its command table, `tls`, `dns`) than the whole request took to
 * answer; the CLI loads it only to follow a run, once the run exists.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';

export type Reply = string | number | null | Error | Reply[];
export type Arg = string | number | Buffer;

/** What a redis:// or rediss:// URL names, as ioredis reads it. */
export interface RedisTarget {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

/** Reads a REDIS_URL; throws on anything this client would not connect to as ioredis would. */
export function redisTarget(url: string): RedisTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a URL`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error('REDIS_URL must be redis:// or rediss://');
  // ioredis turns query parameters into options (db, family, …): ignoring them could mean another database.
  if (u.search)
    throw new Error('the CLI takes no options in REDIS_URL (after ?): put the database in its path');
  const db = u.pathname.replace(/^\//, '');
  if (db && !/^\d+$/.test(db)) throw new Error('REDIS_URL names no database number in its path');
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost',
    port: Number(u.port || 6379),
    tls: u.protocol === 'rediss:',
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(db ? { db: Number(db) } : {}),
  };
}

function encode(args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** One reply from `at`, with where the next begins; undefined while it has not all arrived. */
export function parseReply(buf: Buffer, at: number): [Reply, number] | undefined {
  const end = buf.indexOf('\r\n', at);
  if (end < 0) return undefined;
  const line = buf.toString('utf8', at + 1, end);
  const next = end + 2;
  switch (buf[at]) {
    case 0x2b: // +
      return [line, next];
    case 0x2d: // -
      return [new Error(line), next];
    case 0x3a: // :
      return [Number(line), next];
    case 0x24: {
      // $
      const n = Number(line);
      if (n < 0) return [null, next];
      return buf.length < next + n + 2 ? undefined : [buf.toString('utf8', next, next + n), next + n + 2];
    }
    case 0x2a: {
      // *
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`Redis sent something that is not RESP (${JSON.stringify(line.slice(0, 20))})`);
  }
}

interface Pending {
  resolve: (r: Reply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class RespConnection {
  private readonly pending: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private failure: Error | undefined;
  /** AUTH and SELECT, sent first: a command's error is theirs if they failed. */
  private readonly ready: Promise<unknown>;

  private constructor(
    private readonly socket: Socket,
    target: RedisTarget,
    private readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('error', (e) => this.fail(e));
    socket.on('close', () => this.fail(new Error('Redis closed the connection')));
    const setup: Array<Promise<Reply>> = [];
    if (target.password !== undefined)
      setup.push(this.command(['AUTH', ...(target.username ? [target.username] : []), target.password]));
    if (target.db !== undefined) setup.push(this.command(['SELECT', target.db]));
    this.ready = Promise.all(setup);
    this.ready.catch(() => undefined);
  }

  /**
   * Opens a connection; commands may be sent at once (they wait in the socket until it connects).
   * Every reply, and the connection itself, is due within `timeoutMs`.
   */
  static open(target: RedisTarget, timeoutMs = 3_000): RespConnection {
    const socket = target.tls
      ? // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only for rediss://
        (require('node:tls') as typeof import('node:tls')).connect({
          host: target.host,
          port: target.port,
          // SNI names a host, never an address (RFC 6066).
          ...(isIP(target.host) ? {} : { servername: target.host }),
        })
      : netConnect({ host: target.host, port: target.port });
    return new RespConnection(socket, target, timeoutMs);
  }

  /** Sends one command; its reply, or the error Redis answered (or the connection's). */
  async command(args: Arg[], timeoutMs = this.timeoutMs): Promise<Reply> {
    const reply = new Promise<Reply>((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      const timer = setTimeout(
        () => this.fail(new Error(`Redis did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.push({ resolve, reject, timer });
      this.socket.write(encode(args));
    });
    const [, r] = await Promise.all([this.ready, reply]);
    if (r instanceof Error) throw r;
    return r;
  }

  close(): void {
    this.fail(new Error('connection closed'));
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    let at = 0;
    for (;;) {
      let parsed: [Reply, number] | undefined;
      try {
        parsed = parseReply(this.buffer, at);
      } catch (e) {
        return this.fail(e as Error);
      }
      if (!parsed) break;
      at = parsed[1];
      const p = this.pending.shift();
      if (!p) return this.fail(new Error('Redis answered a command that was not sent'));
      clearTimeout(p.timer);
      p.resolve(parsed[0]);
    }
    this.buffer = this.buffer.subarray(at);
  }

  /** Ends the connection: every command still waiting gets `e`, and so does any sent later. */
  private fail(e: Error): void {
    this.failure ??= e;
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(this.failure);
    }
    this.socket.destroy();
  }
}
