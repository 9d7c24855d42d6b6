import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { pairs, requestCall } from './redis-requests';
import { RedisScript } from '../queue/redis-script';

export type ApprovalState = 'pending' | 'approved' | 'rejected' | 'expired';
export type Decision = 'approved' | 'rejected';

/** A pending (or decided) rotation request. Names and Slack ids only: nothing secret. */
export interface ApprovalRequest {
  id: string;
  credential: string;
  requester: string;
  channel: string;
  messageTs?: string;
  createdAt: string;
  expiresAt: string;
  state: ApprovalState;
  decidedBy?: string;
  decidedAt?: string;
}

export type DecideResult =
  | { ok: true; request: ApprovalRequest }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'expired' | 'already_decided' | 'self_approval'; request: ApprovalRequest };

export interface ApprovalStoreOptions {
  redis: Redis;
  /** Key prefix, e.g. "rotator:"; keys are `${prefix}approval:${id}`. */
  prefix?: string;
  /** How long a request may be approved (default 60 min). */
  ttlMs?: number;
  /** How long a decided or expired request is kept to answer late clicks (default 24 h). */
  retainMs?: number;
  now?: () => Date;
}

// One atomic check-and-set: of any number of concurrent clicks exactly one sees 'ok'.
const DECIDE = new RedisScript(
  `
local k = KEYS[1]
if redis.call('EXISTS', k) == 0 then return {'not_found'} end
local state = redis.call('HGET', k, 'state')
if state == 'pending' and tonumber(ARGV[3]) >= tonumber(redis.call('HGET', k, 'expiresAtMs')) then
  redis.call('HSET', k, 'state', 'expired')
  state = 'expired'
end
local status = 'ok'
if state == 'expired' then status = 'expired'
elseif state ~= 'pending' then status = 'already_decided'
elseif ARGV[1] == 'approved' and redis.call('HGET', k, 'requester') == ARGV[2] then status = 'self_approval'
else redis.call('HSET', k, 'state', ARGV[1], 'decidedBy', ARGV[2], 'decidedAt', ARGV[4]) end
local out = redis.call('HGETALL', k)
table.insert(out, 1, status)
return out
`,
  1,
);

// Undo an approval whose run could not be started, so the request can be approved again.
const REOPEN = new RedisScript(
  `
local k = KEYS[1]
if redis.call('HGET', k, 'state') == ARGV[1] and redis.call('HGET', k, 'decidedBy') == ARGV[2] then
  redis.call('HSET', k, 'state', 'pending')
  redis.call('HDEL', k, 'decidedBy', 'decidedAt')
  return 1
end
return 0
`,
  1,
);

// Expire a request whose time has come, if nobody decided it: exactly once, like DECIDE.
const EXPIRE = new RedisScript(
  `
local k = KEYS[1]
if redis.call('HGET', k, 'state') == 'pending' and tonumber(redis.call('HGET', k, 'expiresAtMs')) <= tonumber(ARGV[1]) then
  redis.call('HSET', k, 'state', 'expired')
  return redis.call('HGETALL', k)
end
return {}
`,
  1,
);

// Withdraw a request nobody can see (its plan was never posted): only while still pending.
const WITHDRAW = new RedisScript(
  `
if redis.call('HGET', KEYS[1], 'state') == 'pending' then return redis.call('DEL', KEYS[1]) end
return 0
`,
  1,
);

function toRequest(id: string, h: Record<string, string>): ApprovalRequest {
  return {
    id,
    credential: h.credential ?? '',
    requester: h.requester ?? '',
    channel: h.channel ?? '',
    ...(h.messageTs ? { messageTs: h.messageTs } : {}),
    createdAt: h.createdAt ?? '',
    expiresAt: new Date(Number(h.expiresAtMs)).toISOString(),
    state: (h.state ?? 'pending') as ApprovalState,
    ...(h.decidedBy ? { decidedBy: h.decidedBy } : {}),
    ...(h.decidedAt ? { decidedAt: h.decidedAt } : {}),
  };
}

/** Approval requests in Redis: created by /rotate, decided exactly once by a button click. */
export class ApprovalStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  readonly ttlMs: number;
  private readonly retainMs: number;
  private readonly now: () => Date;

  constructor(opts: ApprovalStoreOptions) {
    this.redis = opts.redis;
    this.prefix = opts.prefix ?? 'rotator:';
    this.ttlMs = opts.ttlMs ?? 60 * 60_000;
    this.retainMs = opts.retainMs ?? 24 * 60 * 60_000;
    this.now = opts.now ?? (() => new Date());
  }

  private key(id: string): string {
    return `${this.prefix}approval:${id}`;
  }

  /** Creates a pending request and returns its id (what the buttons carry). */
  async createRequest(input: {
    credential: string;
    requester: string;
    channel: string;
    messageTs?: string;
  }): Promise<string> {
    const id = randomBytes(8).toString('hex');
    const now = this.now();
    const fields = {
      credential: input.credential,
      requester: input.requester,
      channel: input.channel,
      ...(input.messageTs ? { messageTs: input.messageTs } : {}),
      createdAt: now.toISOString(),
      expiresAtMs: String(now.getTime() + this.ttlMs),
      state: 'pending',
    };
    await requestCall(() =>
      this.redis
        .multi()
        .hset(this.key(id), fields)
        .pexpire(this.key(id), this.ttlMs + this.retainMs)
        .exec(),
    );
    return id;
  }

  /**
   * Records the plan message once it is posted: its ts, and its blocks so the buttons can be
   * replaced when the request expires without anyone clicking (the blocks hold a plan, no value).
   */
  async attachMessage(id: string, messageTs: string, blocks?: unknown[]): Promise<void> {
    await requestCall(() =>
      this.redis.hset(this.key(id), {
        messageTs,
        ...(blocks ? { planBlocks: JSON.stringify(blocks) } : {}),
      }),
    );
  }

  /** Marks a pending request whose time is up as expired; undefined when it was decided or is not due. */
  async expire(id: string): Promise<(ApprovalRequest & { planBlocks?: unknown[] }) | undefined> {
    const raw = (await requestCall(() =>
      EXPIRE.run(this.redis, [this.key(id)], String(this.now().getTime())),
    )) as string[];
    if (raw.length === 0) return undefined;
    const h = pairs(raw);
    const planBlocks = h.planBlocks ? (JSON.parse(h.planBlocks) as unknown[]) : undefined;
    return { ...toRequest(id, h), ...(planBlocks ? { planBlocks } : {}) };
  }

  async get(id: string): Promise<ApprovalRequest | undefined> {
    return (await this.withPlan(id))?.request;
  }

  /** The request and the plan blocks stored with its message (to close the plan later). */
  async withPlan(id: string): Promise<{ request: ApprovalRequest; planBlocks?: unknown[] } | undefined> {
    const h = await requestCall(() => this.redis.hgetall(this.key(id)));
    if (!Object.keys(h).length) return undefined;
    const planBlocks = h.planBlocks ? (JSON.parse(h.planBlocks) as unknown[]) : undefined;
    return { request: toRequest(id, h), ...(planBlocks ? { planBlocks } : {}) };
  }

  /** Deletes a pending request whose plan could not be posted; false when it was decided meanwhile. */
  async withdraw(id: string): Promise<boolean> {
    return (await requestCall(() => WITHDRAW.run(this.redis, [this.key(id)]))) === 1;
  }

  /** Atomic: a double click or two approvers at once yield exactly one `ok`. Expired and self-approval refused. */
  async decide(id: string, decision: Decision, by: string): Promise<DecideResult> {
    const now = this.now();
    const raw = await requestCall(() =>
      DECIDE.run(this.redis, [this.key(id)], decision, by, String(now.getTime()), now.toISOString()),
    );
    const [status, ...rest] = raw as string[];
    if (status === 'not_found' || status === undefined) return { ok: false, reason: 'not_found' };
    const request = toRequest(id, pairs(rest));
    if (status === 'ok') return { ok: true, request };
    return { ok: false, reason: status as 'expired' | 'already_decided' | 'self_approval', request };
  }

  /** Puts an approval back to pending after its run could not be started. */
  async reopen(id: string, by: string): Promise<boolean> {
    const n = await requestCall(() => REOPEN.run(this.redis, [this.key(id)], 'approved', by));
    return n === 1;
  }
}
