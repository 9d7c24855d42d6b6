import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export interface Listening {
  server: Server;
  url: string;
  port: number;
  /** TCP connections clients have opened since it started (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received since it started. */
  requestCount(): number;
  close(): Promise<void>;
}

/**
 * Starts a server on 127.0.0.1 (port 0 = ephemeral), HTTPS when given a key and certificate;
 * close() also drops keep-alive sockets (and open watch streams).
 */
export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
  port = 0,
  tls?: { key: string; cert: string },
): Promise<Listening> {
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    Promise.resolve(handler(req, res)).catch((e: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: e instanceof Error ? e.message : 'double failed' });
      else res.end();
    });
  };
  const server: Server = tls ? createHttpsServer(tls, serve) : createServer(serve);
  let connections = 0;
  let requests = 0;
  server.on('connection', () => (connections += 1));
  server.on('request', () => (requests += 1));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as AddressInfo).port;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${actual}`,
    port: actual,
    connections: () => connections,
    requestCount: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The bearer token of a request, if it carries one. */
export const bearerOf = (req: IncomingMessage): string | undefined => {
  const m = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
  return m?.[1];
};

/** Constant-time comparison of a presented token with the expected one. */
export const sameToken = (given: string | undefined, expected: string): boolean => {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

export const parseJson = (text: string): unknown => {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
};

/**
 * A double's server with its fault injection in front: faults apply first, then the control
 * endpoint (/_faults), then `handler` with the request body read.
 */
export function listenWithFaults(
  faults: {
    apply(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
    control(req: IncomingMessage, res: ServerResponse, body: string): Promise<boolean>;
  },
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void | Promise<void>,
  port = 0,
): Promise<Listening> {
  return listen(async (req, res) => {
    if (await faults.apply(req, res)) return;
    const body = await readBody(req);
    if (await faults.control(req, res, body)) return;
    return handler(req, res, body);
  }, port);
}
