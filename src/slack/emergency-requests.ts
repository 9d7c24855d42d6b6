import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pairs, requestCall } from './redis-requests';
import { RedisScript } from '../queue/redis-script';

export type EmergencyState = 'pending' | 'starting' | 'started' | 'expired';

/**
 * An emergency waiting for its one deliberate click. Names, ids and Slack ids only: the
 * credentials are the ones the scope message showed, so the click starts exactly what was seen.
 */
export interface EmergencyRequest {
  id: string;
  credentials: string[];
  incident: { ref: string; channel: string };
  requester: string;
  /** Where the scope message with the button was posted. */
  channel: string;
  messageTs?: string;
  createdAt: string;
  expiresAt: string;
  state: EmergencyState;
  startedBy?: string;
  startedAt?: string;
  runIds?: string[];
}

export type StartClaim =
  | { ok: true; request: EmergencyRequest }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'expired' | 'already_started'; request: EmergencyRequest };

export interface EmergencyRequestStoreOptions {
  redis: Redis;
  /** Key prefix, e.g. "rotator:"; keys are `${prefix}emergency:${id}`. */
  prefix?: string;
  /** How long the scope shown stays good enough to act on (default 15 min: keys change). */
  ttlMs?: number;
  /** How long a started or expired request is kept to answer late clicks (default 24 h). */
  retainMs?: number;
  now?: () => Date;
}

// One atomic check-and-set: of any number of concurrent clicks exactly one sees 'ok'.
const CLAIM = new RedisScript(
  `
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return {'not_found'} end
local state = redis.call('HGET', k, 'state')
if state == 'pending' and tonumber(ARGV[2]) >= tonumber(redis.call('HGET', k, 'expiresAtMs')) then
  redis.call('HSET', k, 'state', 'expired')
  state = 'expired'
end
local status = 'ok'
if state == 'expired' then status = 'expired'
elseif state ~= 'pending' then status = 'already_started'
else redis.call('HSET', k, 'state', 'starting', 'startedBy', ARGV[1], 'startedAt', ARGV[3]) end
local out = redis.call('HGETALL', k)
table.insert(out, 1, status)
return out
`,
  1,
);

// Undo a claim whose runs could not be started, so the button works again.
const REOPEN = new RedisScript(
  `
if redis.call('HGET', KEYS[1], 'state') == 'starting' and redis.call('HGET', KEYS[1], 'startedBy') == ARGV[1] then
  redis.call('HSET', KEYS[1], 'state', 'pending')
  redis.call('HDEL', KEYS[1], 'startedBy', 'startedAt')
  return 1
end
return 0
`,
  1,
);

const WITHDRAW = new RedisScript(
  `
if redis.call('HGET', KEYS[1], 'state') == 'pending' then return redis.call('DEL', KEYS[1]) end
return 0
`,
  1,
);

const list = (text: string | undefined): string[] => (text ? (JSON.parse(text) as string[]) : []);

function toRequest(id: string, h: Record<string, string>): EmergencyRequest {
  return {
    id,
    credentials: list(h.credentials),
    incident: { ref: h.incidentRef ?? '', channel: h.incidentChannel ?? '' },
    requester: h.requester ?? '',
    channel: h.channel ?? '',
    ...(h.messageTs ? { messageTs: h.messageTs } : {}),
    createdAt: h.createdAt ?? '',
    expiresAt: new Date(Number(h.expiresAtMs)).toISOString(),
    state: (h.state ?? 'pending') as EmergencyState,
    ...(h.startedBy ? { startedBy: h.startedBy } : {}),
    ...(h.startedAt ? { startedAt: h.startedAt } : {}),
    ...(h.runIds ? { runIds: list(h.runIds) } : {}),
  };
}

/** Emergencies awaiting their "Revoke and rotate now" click, shared by every web replica. */
export class EmergencyRequestStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  readonly ttlMs: number;
  private readonly retainMs: number;
  private readonly now: () => Date;

  constructor(opts: EmergencyRequestStoreOptions) {
    this.redis = opts.redis;
    this.prefix = opts.prefix ?? 'rotator:';
    this.ttlMs = opts.ttlMs ?? 15 * 60_000;
    this.retainMs = opts.retainMs ?? 24 * 60 * 60_000;
    this.now = opts.now ?? (() => new Date());
  }

  private key(id: string): string {
    return `${this.prefix}emergency:${id}`;
  }

  /** Stores a pending emergency and returns its id: the only thing the button carries. */
  async create(input: {
    credentials: string[];
    incident: { ref: string; channel: string };
    requester: string;
    channel: string;
  }): Promise<{ id: string; expiresAt: string }> {
    const id = randomBytes(8).toString('hex');
    const now = this.now();
    const expiresAtMs = now.getTime() + this.ttlMs;
    const fields = {
      credentials: JSON.stringify(input.credentials),
      incidentRef: input.incident.ref,
      incidentChannel: input.incident.channel,
      requester: input.requester,
      channel: input.channel,
      createdAt: now.toISOString(),
      expiresAtMs: String(expiresAtMs),
      state: 'pending',
    };
    await requestCall(() =>
      this.redis
        .multi()
        .hset(this.key(id), fields)
        .pexpire(this.key(id), this.ttlMs + this.retainMs)
        .exec(),
    );
    return { id, expiresAt: new Date(expiresAtMs).toISOString() };
  }

  async attachMessage(id: string, messageTs: string): Promise<void> {
    await requestCall(() => this.redis.hset(this.key(id), { messageTs }));
  }

  async get(id: string): Promise<EmergencyRequest | undefined> {
    const h = await requestCall(() => this.redis.hgetall(this.key(id)));
    return Object.keys(h).length ? toRequest(id, h) : undefined;
  }

  /** Atomic: a double click, or two responders at once, yield exactly one `ok`. */
  async claim(id: string, by: string): Promise<StartClaim> {
    const now = this.now();
    const raw = (await requestCall(() =>
      CLAIM.run(this.redis, [this.key(id)], by, String(now.getTime()), now.toISOString()),
    )) as string[];
    const [status, ...rest] = raw;
    if (status === 'not_found' || status === undefined) return { ok: false, reason: 'not_found' };
    const request = toRequest(id, pairs(rest));
    if (status === 'ok') return { ok: true, request };
    return { ok: false, reason: status as 'expired' | 'already_started', request };
  }

  /** Records the runs a claim started. */
  async started(id: string, runIds: string[]): Promise<void> {
    await requestCall(() =>
      this.redis.hset(this.key(id), { state: 'started', runIds: JSON.stringify(runIds) }),
    );
  }

  /** Puts a claimed request back to pending after its runs could not be started. */
  async reopen(id: string, by: string): Promise<boolean> {
    return (await requestCall(() => REOPEN.run(this.redis, [this.key(id)], by))) === 1;
  }

  /** Deletes a pending request nobody can see (its message was never posted). */
  async withdraw(id: string): Promise<boolean> {
    return (await requestCall(() => WITHDRAW.run(this.redis, [this.key(id)]))) === 1;
  }
}
