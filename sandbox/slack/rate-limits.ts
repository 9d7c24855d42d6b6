export type Tier = 1 | 2 | 3 | 4;

/**
 * Slack's Web API limits: per method per workspace by tier (requests per minute, bursts up to a
 * minute's allowance), and chat.postMessage's own: about one per second per channel, short bursts
 * tolerated. https://docs.slack.dev/apis/web-api/rate-limits
 */
export interface RateLimits {
  postMessage: { perSecond: number; burst: number };
  tiers: Record<Tier, number>;
}

export const SLACK_RATE_LIMITS: RateLimits = {
  postMessage: { perSecond: 1, burst: 4 },
  tiers: { 1: 1, 2: 20, 3: 50, 4: 100 },
};

/** Each modelled method's tier (its page at docs.slack.dev/reference/methods). */
export const METHOD_TIERS: Record<string, Tier | 'postMessage'> = {
  'auth.test': 4,
  'chat.postEphemeral': 4,
  'chat.postMessage': 'postMessage',
  'chat.update': 3,
  'conversations.info': 3,
  'usergroups.users.list': 2,
  'users.info': 4,
  'views.open': 4,
  'views.publish': 4,
};

interface Bucket {
  tokens: number;
  at: number;
}

/** Token buckets keyed by method (and channel for chat.postMessage). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: RateLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one request's token; answers the Retry-After (whole seconds) when there is none. */
  take(method: string, channel: string | undefined): number | undefined {
    const tier = METHOD_TIERS[method];
    if (tier === undefined) return undefined;
    const { perSecond, burst } =
      tier === 'postMessage'
        ? this.limits.postMessage
        : { perSecond: this.limits.tiers[tier] / 60, burst: this.limits.tiers[tier] };
    const key = tier === 'postMessage' ? `${method}:${channel ?? ''}` : method;
    const now = this.now();
    const b = this.buckets.get(key) ?? { tokens: burst, at: now };
    b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
    b.at = now;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / perSecond));
  }
}
