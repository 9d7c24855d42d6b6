import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/** Statuses whose Response has no body (the constructor refuses one). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

let agents: { http: HttpAgent; https: HttpsAgent } | undefined;

/**
 * `fetch` for the issuers' admin APIs on node's HTTP client and one keep-alive pool per process:
 * undici's fetch (WHATWG streams, its own dispatcher) cost about a millisecond of CPU per call, more
 * than the call itself, which told on a worker making a hundred rotations' calls at once. It takes
 * what IssuerHttp sends (method, headers, a string body, a signal) and answers with a Response whose
 * body is already read. It follows no redirect: an admin API that moved answers its 3xx, which the
 * issuer reports, instead of its token being sent on to wherever it points. Failures look like
 * fetch's: the signal's reason when aborted (a TimeoutError), else a TypeError whose cause carries
 * the network error's code.
 */
export const httpFetch: typeof fetch = (input, init = {}) => {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
  const secure = url.protocol === 'https:';
  agents ??= {
    http: new HttpAgent({ keepAlive: true }),
    https: new HttpsAgent({ keepAlive: true }),
  };
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => (headers[k] = v));
  const body = typeof init.body === 'string' ? init.body : undefined;
  if (init.body != null && body === undefined) {
    return Promise.reject(new TypeError('httpFetch sends string bodies only'));
  }
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const req = (secure ? httpsRequest : httpRequest)(
      url,
      { method: init.method ?? 'GET', headers, agent: secure ? agents!.https : agents!.http },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(e));
        res.on('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const status = res.statusCode ?? 0;
          const h = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
            h.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          resolve(
            new Response(NULL_BODY.has(status) ? null : Buffer.concat(chunks), {
              status,
              statusText: res.statusMessage ?? '',
              headers: h,
            }),
          );
        });
      },
    );
    const fail = (e: unknown) => {
      signal?.removeEventListener('abort', onAbort);
      if (signal?.aborted) return reject(signal.reason as Error);
      reject(new TypeError('fetch failed', { cause: e }));
    };
    const onAbort = () => req.destroy();
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', fail);
    req.end(body);
  });
};
