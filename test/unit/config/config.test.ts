import { parseEnv } from '../../../src/config';
import { RotatorError } from '../../../src/domain/errors';

/** The four variables without defaults. */
const REQUIRED = {
  SLACK_SIGNING_SECRET: 'signing-secret-value',
  SLACK_BOT_TOKEN: 'xoxb-bot-token-value',
  VAULT_ADDR: 'http://127.0.0.1:8200',
  VAULT_TOKEN: 'vault-token-value',
};

function refusal(env: Record<string, string | undefined>): RotatorError {
  let thrown: unknown;
  try {
    parseEnv(env);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(RotatorError);
  const e = thrown as RotatorError;
  expect(e.code).toBe('config_invalid');
  return e;
}

describe('parseEnv', () => {
  describe('when only the required variables are set', () => {
    it('applies the documented defaults', () => {
      expect(parseEnv(REQUIRED)).toMatchObject({
        PORT: 3000,
        REDIS_URL: 'redis://127.0.0.1:6379',
        VAULT_KV_MOUNT: 'secret',
        REMINDER_CRON: '0 9 * * 1',
        REMINDER_TZ: 'UTC',
        INCIDENT_CHANNEL_PATTERN: '^inc-',
        CATALOG_PATH: 'credentials.yaml',
        DUE_SOON_DAYS: 14,
        LOG_LEVEL: 'info',
      });
    });
  });

  describe('when numbers arrive as strings', () => {
    it('coerces them', () => {
      expect(parseEnv({ ...REQUIRED, PORT: '8080', DUE_SOON_DAYS: '7' })).toMatchObject({
        PORT: 8080,
        DUE_SOON_DAYS: 7,
      });
    });
  });

  describe('when a variable is set to the empty string', () => {
    it('treats an optional one as unset and uses its default', () => {
      expect(parseEnv({ ...REQUIRED, PORT: '', REDIS_URL: '' })).toMatchObject({
        PORT: 3000,
        REDIS_URL: 'redis://127.0.0.1:6379',
      });
    });

    it('reports a required one as missing', () => {
      expect(refusal({ ...REQUIRED, VAULT_TOKEN: '' }).message).toContain('VAULT_TOKEN');
    });
  });

  describe('when several variables are wrong at once', () => {
    const env = {
      SLACK_BOT_TOKEN: 'xoxp-user-token-value',
      VAULT_ADDR: 'not a url',
      PORT: '70000',
      REDIS_URL: 'http://127.0.0.1:6379',
      LOG_LEVEL: 'verbose',
    };

    it('lists every problem in one config_invalid error', () => {
      const { message } = refusal(env);
      expect(message.startsWith('configuration is invalid:')).toBe(true);
      for (const name of [
        'SLACK_SIGNING_SECRET',
        'SLACK_BOT_TOKEN',
        'VAULT_ADDR',
        'VAULT_TOKEN',
        'PORT',
        'REDIS_URL',
        'LOG_LEVEL',
      ]) {
        expect(message).toMatch(new RegExp(`^  - ${name}: `, 'm'));
      }
    });

    it('names the variables without repeating their values', () => {
      const { message } = refusal(env);
      expect(message).toContain('SLACK_BOT_TOKEN: must be a bot token (xoxb-…)');
      expect(message).not.toContain('xoxp-user-token-value');
    });
  });

  describe('when INCIDENT_CHANNEL_PATTERN is not a regular expression', () => {
    it('refuses it', () => {
      const { message } = refusal({ ...REQUIRED, INCIDENT_CHANNEL_PATTERN: '^inc-(' });
      expect(message).toContain('INCIDENT_CHANNEL_PATTERN: must be a regular expression');
    });
  });

  describe('when INCIDENT_CHANNEL_PATTERN is a valid regular expression', () => {
    it('keeps it', () => {
      expect(
        parseEnv({ ...REQUIRED, INCIDENT_CHANNEL_PATTERN: '^(inc|sev)-' }).INCIDENT_CHANNEL_PATTERN,
      ).toBe('^(inc|sev)-');
    });
  });

  describe('the reminder schedule', () => {
    it.each([
      ['REMINDER_CRON', '0 9 * * 8', 'Constraint error, got value 8 expected range 0-7'],
      ['REMINDER_CRON', 'every monday', 'must be a cron pattern such as "0 9 * * 1"'],
      ['REMINDER_TZ', 'Europe/Atlantis', 'must be an IANA time zone such as UTC or Europe/Paris'],
      ['REMINDER_TZ', 'UTC+2', 'must be an IANA time zone'],
    ])('refuses %s=%j, naming the variable', (name, value, why) => {
      const { message } = refusal({ ...REQUIRED, [name]: value });
      expect(message).toMatch(
        new RegExp(`^  - ${name}: .*${why.replace(/[.*+?^${}()|[\]\\"]/g, '\\$&')}`, 'm'),
      );
    });

    it('blames an unknown zone on REMINDER_TZ alone, and still names REMINDER_CRON beside another problem', () => {
      const zone = refusal({ ...REQUIRED, REMINDER_TZ: 'Europe/Atlantis' }).message;
      expect(zone).toMatch(/^ {2}- REMINDER_TZ: must be an IANA time zone/m);
      expect(zone).not.toContain('REMINDER_CRON');
      const both = refusal({ ...REQUIRED, REMINDER_CRON: 'every monday', PORT: '-1' }).message;
      expect(both).toMatch(/^ {2}- REMINDER_CRON: must be a cron pattern/m);
      expect(both).toMatch(/^ {2}- PORT: /m);
    });

    it('keeps a valid pattern, with seconds too, and a time zone', () => {
      expect(
        parseEnv({ ...REQUIRED, REMINDER_CRON: '*/2 * * * * *', REMINDER_TZ: 'Europe/Paris' }),
      ).toMatchObject({ REMINDER_CRON: '*/2 * * * * *', REMINDER_TZ: 'Europe/Paris' });
    });
  });
});
