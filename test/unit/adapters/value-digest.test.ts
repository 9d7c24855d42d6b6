import { createHash } from 'node:crypto';
import { matchesDigest, valueDigest } from '../../../src/adapters/value-digest';

describe('a value digest', () => {
  it('matches its own value and no other', () => {
    const digest = valueDigest('sk_live_abc');
    expect(matchesDigest(digest, Buffer.from('sk_live_abc'))).toBe(true);
    expect(matchesDigest(digest, Buffer.from('sk_live_abd'))).toBe(false);
  });

  it('is salted: two digests of one value differ, and neither is its bare sha256', () => {
    const a = valueDigest('hunter2');
    const b = valueDigest('hunter2');
    expect(a).not.toBe(b);
    const bare = createHash('sha256').update('hunter2').digest('hex');
    expect(a).not.toContain(bare);
    expect(a).not.toContain('hunter2');
  });

  it('never matches a digest of another form (a bare sha256, a tampered salt)', () => {
    const bare = createHash('sha256').update('v').digest('hex');
    expect(matchesDigest(bare, Buffer.from('v'))).toBe(false);
    const [prefix, , mac] = valueDigest('v').split(':');
    expect(matchesDigest(`${prefix}:00:${mac}`, Buffer.from('v'))).toBe(false);
    expect(matchesDigest('hmac-sha256::', Buffer.from('v'))).toBe(false);
  });

  it('is written as hmac-sha256:<salt>:<mac>, the form the runs on record carry', () => {
    expect(valueDigest('v')).toMatch(/^hmac-sha256:[0-9a-f]{32}:[0-9a-f]{64}$/);
  });

  it('never matches an unsalted digest, even one whose mac is right', () => {
    // Without a salt, a table of guesses precomputed once would test every digest in Redis.
    expect(matchesDigest(valueDigest('v', ''), Buffer.from('v'))).toBe(false);
  });

  it('answers false, not an error, for a digest of its form but another length', () => {
    expect(matchesDigest(`${valueDigest('v')}0`, Buffer.from('v'))).toBe(false);
  });
});
