import { RateLimiter, SLACK_RATE_LIMITS } from '../../../sandbox/slack/rate-limits';

describe("the Slack double's rate limiter", () => {
  let now = 0;
  const limiter = () => new RateLimiter(SLACK_RATE_LIMITS, () => now);
  beforeEach(() => {
    now = 1_000_000;
  });

  describe('for chat.postMessage', () => {
    it('allows a burst of four per channel, then one a second', () => {
      const l = limiter();
      const taken = Array.from({ length: 5 }, () => l.take('chat.postMessage', 'C1'));
      expect(taken).toEqual([undefined, undefined, undefined, undefined, 1]);
      now += 1_000;
      expect(l.take('chat.postMessage', 'C1')).toBeUndefined();
      expect(l.take('chat.postMessage', 'C1')).toBe(1);
      expect(l.take('chat.postMessage', 'C2')).toBeUndefined();
    });
  });

  describe('for a Tier 3 method (chat.update)', () => {
    it('allows a minute of 50, then waits for the next token (about 1.2 s)', () => {
      const l = limiter();
      for (let i = 0; i < 50; i++) expect(l.take('chat.update', `C${i % 3}`)).toBeUndefined();
      expect(l.take('chat.update', 'C1')).toBe(2);
      now += 1_200;
      expect(l.take('chat.update', 'C1')).toBeUndefined();
    });
  });

  describe('for a method it does not know', () => {
    it('does not limit it', () => {
      expect(limiter().take('unknown.method', undefined)).toBeUndefined();
    });
  });
});
