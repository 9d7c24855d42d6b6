import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { sendJson, type Listening } from '../http';

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;

/**
 * Rewrites each request line `LIST <target> HTTP/1.1` to `GET <target>?list=true HTTP/1.1` (what
 * Vault's HTTP layer treats as the same request) before Node's parser sees it: llhttp knows a fixed
 * set of methods and answers any other with 400, closing the connection. Requests are delimited by
 * their Content-Length; a chunked request body ends the rewriting on that connection (Vault's
 * clients send Content-Length).
 */
export class ListVerbRewriter {
  private pending: Buffer = Buffer.alloc(0);
  private state: 'head' | 'body' | 'passthrough' = 'head';
  private remaining = 0;

  feed(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let data: Buffer = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = Buffer.alloc(0);
    while (data.length > 0) {
      if (this.state === 'passthrough') {
        out.push(data);
        break;
      }
      if (this.state === 'body') {
        const take = Math.min(this.remaining, data.length);
        out.push(data.subarray(0, take));
        data = data.subarray(take);
        this.remaining -= take;
        if (this.remaining === 0) this.state = 'head';
        continue;
      }
      const end = data.indexOf(HEAD_END);
      if (end < 0) {
        if (data.length > MAX_HEAD) {
          this.state = 'passthrough';
          continue;
        }
        this.pending = data;
        break;
      }
      const head = data.subarray(0, end + HEAD_END.length).toString('latin1');
      data = data.subarray(end + HEAD_END.length);
      out.push(Buffer.from(rewriteHead(head), 'latin1'));
      const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (/\r\ntransfer-encoding:[^\r]*chunked/i.test(head)) this.state = 'passthrough';
      else if (length && Number(length[1]) > 0) {
        this.state = 'body';
        this.remaining = Number(length[1]);
      }
    }
    return Buffer.concat(out);
  }
}

function rewriteHead(head: string): string {
  const m = /^(\r\n)*LIST ([^ ]+) (HTTP\/1\.[01])\r\n/.exec(head);
  if (!m) return head;
  const target = m[2]!;
  const rewritten = `GET ${target}${target.includes('?') ? '&' : '?'}list=true ${m[3]!}\r\n`;
  return rewritten + head.slice(m[0].length);
}

/** The socket as the HTTP server sees it: bytes in pass through the rewriter, bytes out go straight. */
function shim(socket: Socket): Duplex {
  const rewriter = new ListVerbRewriter();
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      socket.write(chunk, callback);
    },
    final(callback) {
      socket.end();
      callback();
    },
    destroy(error, callback) {
      socket.destroy();
      callback(error);
    },
  });
  socket.on('data', (chunk: Buffer) => {
    const rewritten = rewriter.feed(chunk);
    if (rewritten.length > 0 && !duplex.push(rewritten)) socket.pause();
  });
  socket.on('end', () => duplex.push(null));
  socket.on('error', (e) => duplex.destroy(e));
  socket.on('close', () => duplex.destroy());
  // What the HTTP server and handlers read off a socket.
  for (const prop of ['remoteAddress', 'remotePort', 'remoteFamily', 'localAddress', 'localPort'] as const) {
    Object.defineProperty(duplex, prop, { get: () => socket[prop] });
  }
  return Object.assign(duplex, {
    setTimeout: (ms: number, cb?: () => void) => {
      socket.setTimeout(ms, cb);
      return duplex;
    },
    setNoDelay: (noDelay?: boolean) => {
      socket.setNoDelay(noDelay);
      return duplex;
    },
    setKeepAlive: (enable?: boolean, delay?: number) => {
      socket.setKeepAlive(enable, delay);
      return duplex;
    },
  });
}

/** Like sandbox/http `listen`, with the LIST verb accepted at the socket. */
export async function listenWithListVerb(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port = 0,
): Promise<Listening> {
  const server = createHttpServer((req, res) => {
    handler(req, res).catch((e: unknown) => {
      if (!res.headersSent)
        sendJson(res, 500, { errors: [e instanceof Error ? e.message : 'double failed'] });
      else res.end();
    });
  });
  const sockets = new Set<Socket>();
  let connections = 0;
  let requests = 0;
  server.on('request', () => (requests += 1));
  const tcp = createNetServer((socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    server.emit('connection', shim(socket));
  });
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  const actual = (tcp.address() as AddressInfo).port;
  return {
    server,
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    connections: () => connections,
    requestCount: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.closeAllConnections();
        tcp.close(() => resolve());
      }),
  };
}
