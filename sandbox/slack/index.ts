import type { IncomingMessage, ServerResponse } from 'node:http';
import { Faults } from '../faults';
import { listen, readBody, sendJson } from '../http';
import { Channels, SANDBOX_CHANNELS, type ChannelDef } from './channels';
import { METHODS, type Args, type MethodContext } from './methods';
import { RateLimiter, SLACK_RATE_LIMITS, type RateLimits } from './rate-limits';
import { SlackState, type SlackCall, type SlackMessage } from './state';

export type { ChannelDef } from './channels';
export { SANDBOX_CHANNELS } from './channels';
export type { RateLimits } from './rate-limits';
export { SLACK_RATE_LIMITS } from './rate-limits';
export type { SlackCall, SlackMessage } from './state';

/** The bot scopes slack-app-manifest.yml asks for. */
export const MANIFEST_SCOPES = [
  'commands',
  'chat:write',
  'chat:write.public',
  'usergroups:read',
  'users:read',
  'channels:read',
] as const;

export interface SlackDoubleOptions {
  botToken: string;
  port?: number;
  teamId?: string;
  /** User-group id (S…) → member user ids, for usergroups.users.list. */
  userGroups?: Record<string, string[]>;
  /** The workspace's channels; default SANDBOX_CHANNELS. Posting anywhere else is channel_not_found. */
  channels?: readonly ChannelDef[];
  /** The bot token's scopes; default the manifest's. */
  scopes?: readonly string[];
  /**
   * Slack's rate limits, on by default (SLACK_RATE_LIMITS): over them a call answers HTTP 429 with
   * Retry-After. A test that bursts on purpose raises them (or passes false).
   */
  rateLimits?: Partial<RateLimits> | false;
}

export interface SlackDouble {
  /** Base URL of the Web API, ending with /api/ (WebClient's slackApiUrl). */
  url: string;
  /** Origin of the double, for the control endpoints (/_calls, /_faults). */
  origin: string;
  /** TCP connections clients have opened to it (a keep-alive client opens few). */
  connections(): number;
  /** HTTP requests it has received. */
  requestCount(): number;
  close(): Promise<void>;
  faults: Faults;
  calls(): SlackCall[];
  messages(channel?: string): SlackMessage[];
  /** A response_url on the double; POSTs to it are recorded with method 'response_url'. */
  responseUrl(id: string): string;
  /** The next `n` calls of `method` get HTTP 429 with Retry-After. */
  rateLimit(method: string, n: number, retryAfterSeconds: number): void;
  /** Adds (or replaces) a channel of the workspace. */
  addChannel(def: ChannelDef): void;
  /** Deletes a channel: the workspace no longer has it. */
  removeChannel(id: string): void;
}

/** Parses a Web API body: form-encoded (blocks/attachments/metadata are JSON strings) or JSON. */
export function parseArgs(contentType: string | undefined, body: string): Args {
  if (body === '') return {};
  if ((contentType ?? '').startsWith('application/json')) return JSON.parse(body) as Args;
  const args: Args = {};
  for (const [k, v] of new URLSearchParams(body)) {
    if (['blocks', 'attachments', 'metadata', 'view'].includes(k)) {
      try {
        args[k] = JSON.parse(v);
      } catch {
        args[k] = v;
      }
    } else args[k] = v;
  }
  return args;
}

/** A Slack Web API double speaking the wire format @slack/web-api expects (WIRE-NOTES "Slack"). */
export async function createSlackDouble(opts: SlackDoubleOptions): Promise<SlackDouble> {
  const state = new SlackState();
  const faults = new Faults();
  const channels = new Channels(opts.channels ?? SANDBOX_CHANNELS);
  const scopes = opts.scopes ?? MANIFEST_SCOPES;
  const limiter =
    opts.rateLimits === false ? undefined : new RateLimiter({ ...SLACK_RATE_LIMITS, ...opts.rateLimits });
  const ctx: MethodContext = {
    state,
    channels,
    scopes,
    teamId: opts.teamId ?? 'T_SANDBOX',
    botUserId: 'U_ROTATOR',
    botId: 'B_ROTATOR',
    userGroups: opts.userGroups ?? {},
  };

  const tokenOf = (req: IncomingMessage, args: Args): string | undefined => {
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length);
    return typeof args.token === 'string' ? args.token : undefined;
  };

  async function control(req: IncomingMessage, res: ServerResponse, path: string, body: string) {
    const url = new URL(req.url ?? '/', 'http://double');
    if (await faults.control(req, res, body)) return;
    if (path === '/_calls' && req.method === 'DELETE') {
      state.calls.length = 0;
      return sendJson(res, 200, { ok: true });
    }
    if (path === '/_calls') {
      const since = Number(url.searchParams.get('since') ?? 0);
      return sendJson(
        res,
        200,
        state.calls.filter((c) => Date.parse(c.at) >= since),
      );
    }
    if (path === '/_messages') {
      return sendJson(res, 200, state.messages(url.searchParams.get('channel') ?? undefined));
    }
    sendJson(res, 404, { ok: false, error: 'unknown_control' });
  }

  const responseUrls = new Map<string, { at: number; uses: number }>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://double').pathname;
    const body = await readBody(req);
    if (path.startsWith('/_')) return control(req, res, path, body);
    if (path.startsWith('/response/') && req.method === 'POST') {
      const responseUrlId = decodeURIComponent(path.slice('/response/'.length));
      // Slack: a response_url works up to 5 times within 30 minutes of its interaction.
      const issued = responseUrls.get(responseUrlId) ?? { at: Date.now(), uses: 0 };
      responseUrls.set(responseUrlId, issued);
      const error =
        Date.now() - issued.at > 30 * 60_000 ? 'expired_url' : issued.uses >= 5 ? 'used_url' : undefined;
      issued.uses += 1;
      state.record({
        method: 'response_url',
        args: parseArgs(req.headers['content-type'], body),
        status: error ? 404 : 200,
        responseUrlId,
      });
      return error ? sendJson(res, 404, { ok: false, error }) : sendJson(res, 200, { ok: true });
    }
    if (!path.startsWith('/api/') || req.method !== 'POST') {
      return sendJson(res, 404, { ok: false, error: 'not_found' });
    }
    const method = path.slice('/api/'.length);
    const args = parseArgs(req.headers['content-type'], body);
    const token = tokenOf(req, args);
    // The credential a call authenticates with is not part of what the bot said: it is not recorded,
    // so a leak check over the recorded calls can stay strict about every token.
    const { token: _authenticatedWith, ...said } = args;
    if (await faults.apply(req, res)) {
      state.record({ method, args: said, status: res.statusCode });
      return;
    }
    const impl = METHODS[method];
    if (!impl) {
      state.record({ method, args: said, status: 200 });
      return sendJson(res, 200, { ok: false, error: 'unknown_method', req_method: method });
    }
    if (!token || token !== opts.botToken) {
      state.record({ method, args: said, status: 200 });
      return sendJson(res, 200, { ok: false, error: token ? 'invalid_auth' : 'not_authed' });
    }
    // Limits count per app and workspace, so only calls with the bot's token use them up.
    const retryAfter = limiter?.take(method, typeof args.channel === 'string' ? args.channel : undefined);
    if (retryAfter !== undefined) {
      state.record({ method, args: said, status: 429 });
      return sendJson(res, 429, { ok: false, error: 'ratelimited' }, { 'Retry-After': String(retryAfter) });
    }
    state.record({ method, args: said, status: 200 });
    // The WebClient reads the token's scopes off every answer (response_metadata.scopes).
    sendJson(res, 200, impl(ctx, args), { 'x-oauth-scopes': scopes.join(',') });
  }

  const server = await listen(handle, opts.port ?? 0);
  return {
    url: `${server.url}/api/`,
    origin: server.url,
    connections: () => server.connections(),
    requestCount: () => server.requestCount(),
    close: () => server.close(),
    faults,
    calls: () => [...state.calls],
    messages: (channel) => state.messages(channel),
    responseUrl: (id) => {
      if (!responseUrls.has(id)) responseUrls.set(id, { at: Date.now(), uses: 0 });
      return `${server.url}/response/${encodeURIComponent(id)}`;
    },
    rateLimit: (method, n, retryAfterSeconds) =>
      faults.add({
        method: 'POST',
        path: `/api/${method}`,
        status: 429,
        headers: { 'Retry-After': String(retryAfterSeconds) },
        body: { ok: false, error: 'ratelimited' },
        times: n,
      }),
    addChannel: (def) => channels.add(def),
    removeChannel: (id) => channels.remove(id),
  };
}
