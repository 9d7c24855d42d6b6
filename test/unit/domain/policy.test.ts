import type { CredentialType } from '../../../src/domain/credential';
import {
  assessAge,
  describeAge,
  emergencyDeadlineMs,
  maxAgeDays,
  type AgeAssessment,
} from '../../../src/domain/policy';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const NOW = new Date('2025-06-01T12:00:00.000Z');

/** An ISO timestamp `ms` before NOW. */
const ago = (ms: number) => new Date(NOW.getTime() - ms).toISOString();

describe('the rotation schedule (runbook: Credential Rotation Schedule)', () => {
  describe.each<[string, CredentialType, number, number, number]>([
    ['API keys', 'api_key', 90, 30, 0],
    ['OAuth client secrets', 'oauth_client_secret', 180, 90, 0],
    ['Service account tokens', 'service_account_token', 90, 30, 0],
    ['Database credentials', 'database', 90, 30, 4 * HOUR_MS],
    ['Webhook signing secrets', 'webhook_secret', 180, 90, 24 * HOUR_MS],
  ])('for %s (%s)', (_row, type, standard, high, emergency) => {
    it(`allows ${standard} days at standard risk and ${high} days at high risk`, () => {
      expect(maxAgeDays(type, 'standard')).toBe(standard);
      expect(maxAgeDays(type, 'high')).toBe(high);
    });

    it(`sets the emergency deadline to ${emergency === 0 ? 'immediate' : `${emergency / HOUR_MS} hours`}`, () => {
      expect(emergencyDeadlineMs(type)).toBe(emergency);
    });
  });
});

describe('assessAge', () => {
  describe('when the credential was rotated recently', () => {
    it('is ok, measured from rotated_at, with the due date one policy period later', () => {
      const rotatedAt = ago(10 * DAY_MS);
      const a = assessAge({ type: 'api_key', risk: 'high', rotatedAt, now: NOW });
      expect(a).toEqual({
        status: 'ok',
        ageDays: 10,
        maxAgeDays: 30,
        dueAt: new Date(Date.parse(rotatedAt) + 30 * DAY_MS).toISOString(),
        measuredFrom: 'rotated_at',
      });
    });
  });

  describe('when the due date is within the 14-day warning window', () => {
    it('is due_soon exactly 14 days before the due date', () => {
      // 30-day policy, rotated 16 days ago: due in exactly 14 days.
      const a = assessAge({ type: 'api_key', risk: 'high', rotatedAt: ago(16 * DAY_MS), now: NOW });
      expect(a.status).toBe('due_soon');
    });

    it('is still ok one millisecond before the window opens', () => {
      const a = assessAge({ type: 'api_key', risk: 'high', rotatedAt: ago(16 * DAY_MS - 1), now: NOW });
      expect(a.status).toBe('ok');
    });

    it('is due_soon, not overdue, at the due instant itself', () => {
      const a = assessAge({ type: 'api_key', risk: 'high', rotatedAt: ago(30 * DAY_MS), now: NOW });
      expect(a.status).toBe('due_soon');
      expect(a.ageDays).toBe(30);
    });
  });

  describe('when the policy period has passed', () => {
    it('is overdue one millisecond after the due instant', () => {
      const a = assessAge({ type: 'api_key', risk: 'high', rotatedAt: ago(30 * DAY_MS + 1), now: NOW });
      expect(a.status).toBe('overdue');
    });

    it('reports whole days of age', () => {
      const a = assessAge({
        type: 'api_key',
        risk: 'standard',
        rotatedAt: ago(97 * DAY_MS + 5 * HOUR_MS),
        now: NOW,
      });
      expect(a).toMatchObject({ status: 'overdue', ageDays: 97, maxAgeDays: 90 });
    });
  });

  describe('when there is no rotated_at', () => {
    it("falls back to the KV version's created_time", () => {
      const a = assessAge({ type: 'database', risk: 'standard', createdTime: ago(100 * DAY_MS), now: NOW });
      expect(a).toMatchObject({ status: 'overdue', ageDays: 100, measuredFrom: 'created_time' });
    });
  });

  describe('when both timestamps are present', () => {
    it('prefers rotated_at over created_time', () => {
      const a = assessAge({
        type: 'database',
        risk: 'standard',
        rotatedAt: ago(5 * DAY_MS),
        createdTime: ago(400 * DAY_MS),
        now: NOW,
      });
      expect(a).toMatchObject({ status: 'ok', ageDays: 5, measuredFrom: 'rotated_at' });
    });
  });

  describe('when rotated_at is not a valid timestamp', () => {
    it('ignores it and measures from created_time', () => {
      const a = assessAge({
        type: 'api_key',
        risk: 'standard',
        rotatedAt: 'last tuesday',
        createdTime: ago(20 * DAY_MS),
        now: NOW,
      });
      expect(a).toMatchObject({ status: 'ok', ageDays: 20, measuredFrom: 'created_time' });
    });
  });

  describe('when neither timestamp tells the age', () => {
    it.each<[string, string | undefined, string | undefined]>([
      ['both missing', undefined, undefined],
      ['both empty', '', ''],
      ['both invalid', 'not-a-date', 'also not a date'],
    ])('is unknown (%s), with no age or due date', (_case, rotatedAt, createdTime) => {
      const a = assessAge({ type: 'webhook_secret', risk: 'high', rotatedAt, createdTime, now: NOW });
      expect(a).toEqual({ status: 'unknown', maxAgeDays: 90 });
    });
  });

  describe('when a custom warning window is given', () => {
    it('warns earlier than the default would', () => {
      const input = {
        type: 'api_key' as const,
        risk: 'standard' as const,
        rotatedAt: ago(70 * DAY_MS),
        now: NOW,
      };
      expect(assessAge(input).status).toBe('ok');
      expect(assessAge({ ...input, warnDays: 30 }).status).toBe('due_soon');
    });

    it('with 0 days, stays ok until the due instant', () => {
      const a = assessAge({
        type: 'api_key',
        risk: 'standard',
        rotatedAt: ago(90 * DAY_MS - 1),
        now: NOW,
        warnDays: 0,
      });
      expect(a.status).toBe('ok');
    });
  });

  describe('when rotated_at lies in the future (clock skew)', () => {
    it('never reports a negative age', () => {
      const a = assessAge({
        type: 'api_key',
        risk: 'standard',
        rotatedAt: new Date(NOW.getTime() + DAY_MS).toISOString(),
        now: NOW,
      });
      expect(a).toMatchObject({ status: 'ok', ageDays: 0 });
    });
  });
});

describe('describeAge', () => {
  it('reads "97 days old, policy 90 days: overdue" for an overdue key', () => {
    const a = assessAge({ type: 'api_key', risk: 'standard', rotatedAt: ago(97 * DAY_MS), now: NOW });
    expect(describeAge(a)).toBe('97 days old, policy 90 days: overdue');
  });

  it('says "due soon" in words', () => {
    const a = assessAge({ type: 'api_key', risk: 'high', rotatedAt: ago(20 * DAY_MS), now: NOW });
    expect(describeAge(a)).toBe('20 days old, policy 30 days: due soon');
  });

  it('uses the singular for one day', () => {
    const a = assessAge({ type: 'oauth_client_secret', risk: 'standard', rotatedAt: ago(DAY_MS), now: NOW });
    expect(describeAge(a)).toBe('1 day old, policy 180 days: ok');
  });

  it('says the age is unknown when nothing tells it', () => {
    const a: AgeAssessment = assessAge({ type: 'api_key', risk: 'high', now: NOW });
    expect(describeAge(a)).toBe('age unknown, policy 30 days');
  });
});
