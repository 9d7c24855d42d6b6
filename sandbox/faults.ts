import type { IncomingMessage, ServerResponse } from 'node:http';

/** An injected misbehaviour: latency, an error response, or a dropped connection (outage). */
export interface FaultRule {
  method?: string;
  /** Substring or /regex/ source matched against the request path (with query). */
  path?: string;
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  latencyMs?: number;
  /** Destroy the socket without answering, like a service that is down. */
  drop?: boolean;
  /** How many matching requests this applies to; unlimited when absent. */
  times?: number;
  /**
   * The request is served as usual (a write lands) and only then is the answer lost: replaced by
   * `status`/`body`, or dropped with `drop`, after `latencyMs`. The fault a proxy or a network
   * blip causes, and why a write must be read back before anyone compensates for it.
   */
  afterApply?: boolean;
}

function matches(rule: FaultRule, method: string, path: string): boolean {
  if (rule.method && rule.method.toUpperCase() !== method.toUpperCase()) return false;
  if (rule.path) {
    const src = rule.path;
    if (src.startsWith('/') && src.endsWith('/') && src.length > 2) {
      if (!new RegExp(src.slice(1, -1)).test(path)) return false;
    } else if (!path.includes(src)) return false;
  }
  return true;
}

/** Lets the double answer, then throws the answer away and sends the rule's instead (or nothing). */
function loseAnswer(req: IncomingMessage, res: ServerResponse, rule: FaultRule): void {
  const writeHead = res.writeHead.bind(res);
  const end = res.end.bind(res);
  res.writeHead = (() => res) as unknown as ServerResponse['writeHead'];
  res.end = (() => {
    void (async () => {
      if (rule.latencyMs) await new Promise((r) => setTimeout(r, rule.latencyMs));
      if (rule.drop || rule.status === undefined) {
        req.socket.destroy();
        return;
      }
      const body =
        rule.body === undefined ? '' : typeof rule.body === 'string' ? rule.body : JSON.stringify(rule.body);
      writeHead(rule.status, { 'content-type': 'application/json', ...rule.headers });
      end(body);
    })();
    return res;
  }) as unknown as ServerResponse['end'];
}

/**
 * Fault injection shared by every double. Tests call `add` directly; over HTTP a double serves
 * `POST /_faults` (a FaultRule as JSON) and `DELETE /_faults`.
 */
export class Faults {
  private rules: FaultRule[] = [];
  private readonly hits: { method: string; path: string }[] = [];

  add(rule: FaultRule): void {
    this.rules.push({ ...rule });
  }

  clear(): void {
    this.rules = [];
  }

  /** Every request a rule matched, oldest first: what a client sent that the double never served. */
  applied(): { method: string; path: string }[] {
    return [...this.hits];
  }

  /** Applies the first matching rule. Returns true when the request was answered (or dropped). */
  async apply(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    if (path.startsWith('/_')) return false;
    const idx = this.rules.findIndex((r) => matches(r, method, path));
    if (idx < 0) return false;
    const rule = this.rules[idx]!;
    this.hits.push({ method, path });
    if (rule.times !== undefined) {
      rule.times -= 1;
      if (rule.times <= 0) this.rules.splice(idx, 1);
    }
    if (rule.afterApply) {
      loseAnswer(req, res, rule);
      return false;
    }
    if (rule.latencyMs) await new Promise((r) => setTimeout(r, rule.latencyMs));
    if (rule.drop) {
      req.socket.destroy();
      return true;
    }
    if (rule.status === undefined) return false;
    const body =
      rule.body === undefined ? '' : typeof rule.body === 'string' ? rule.body : JSON.stringify(rule.body);
    res.writeHead(rule.status, {
      'content-type': typeof rule.body === 'string' ? 'text/plain' : 'application/json',
      ...rule.headers,
    });
    res.end(body);
    return true;
  }

  /** Serves the /_faults control endpoint; returns true when it handled the request. */
  async control(req: IncomingMessage, res: ServerResponse, body: string): Promise<boolean> {
    if (!(req.url ?? '').startsWith('/_faults')) return false;
    if (req.method === 'DELETE') this.clear();
    else if (req.method === 'POST') this.add(JSON.parse(body) as FaultRule);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, rules: this.rules }));
    return true;
  }
}
