import { request } from 'node:https';

export interface TlsRequestInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * fetch() for a server whose certificate a given CA signed: Node's global fetch trusts only the
 * system roots, and the sandbox's CA is made at start-up. Answers a standard Response.
 */
export function tlsFetch(ca: string): (url: string, init?: TlsRequestInit) => Promise<Response> {
  return (url, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const req = request(url, { method: init.method ?? 'GET', headers: init.headers ?? {}, ca }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) {
            if (typeof v === 'string') headers.set(k, v);
            else if (Array.isArray(v)) v.forEach((x) => headers.append(k, x));
          }
          const status = res.statusCode ?? 500;
          const body = status === 204 || status === 304 ? null : Buffer.concat(chunks);
          resolve(new Response(body, { status, headers }));
        });
      });
      req.on('error', reject);
      req.setTimeout(10_000, () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
      req.end(init.body);
    });
}
