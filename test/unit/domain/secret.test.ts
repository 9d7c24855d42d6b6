import { inspect, format } from 'node:util';
import pino from 'pino';
import { Secret } from '../../../src/domain/secret';
import { LogCapture } from '../../helpers/log-capture';

const VALUE = 'sk_live_51HxTESTONLYnotarealkey';

describe('Secret', () => {
  const secret = new Secret(VALUE);

  describe('when it reaches text by accident', () => {
    it('is redacted by JSON.stringify, also when nested', () => {
      expect(JSON.stringify(secret)).toBe('"[redacted]"');
      expect(JSON.stringify({ issuer: { adminToken: secret }, list: [secret] })).toBe(
        '{"issuer":{"adminToken":"[redacted]"},"list":["[redacted]"]}',
      );
    });

    it('is redacted in template strings, String() and concatenation', () => {
      expect(`token=${secret}`).toBe('token=[redacted]');
      expect(String(secret)).toBe('[redacted]');
      expect('token=' + secret).toBe('token=[redacted]');
    });

    it('is redacted by util.inspect, whatever the options', () => {
      expect(inspect(secret)).toBe('[redacted]');
      expect(inspect({ deep: { deeper: { secret } } }, { depth: null })).not.toContain(VALUE);
      expect(inspect(secret, { showHidden: true, customInspect: false })).not.toContain(VALUE);
    });

    it('is redacted by util.format (the console)', () => {
      expect(format('%s %o %O %j', secret, secret, { secret }, secret)).not.toContain(VALUE);
    });

    it('has no enumerable property holding the value', () => {
      expect(Object.values({ ...secret })).not.toContain(VALUE);
      expect(
        Object.getOwnPropertyNames(secret).map((k) => (secret as unknown as Record<string, unknown>)[k]),
      ).not.toContain(VALUE);
    });
  });

  describe('when logged through pino', () => {
    it('never writes the value, however it is passed', () => {
      const capture = new LogCapture();
      const logger = pino({ level: 'trace' }, capture);
      logger.info({ secret }, 'as a field');
      logger.info({ spec: { issuer: { adminToken: secret } } }, 'nested');
      logger.info(`interpolated ${secret}`);
      logger.info('formatted %s %o %j', secret, secret, secret);
      logger.child({ token: secret }).warn('child bindings');
      logger.error({ err: new Error(`failed with ${secret}`) }, 'in an error');

      expect(capture.lines).toHaveLength(6);
      expect(capture.text()).not.toContain(VALUE);
      expect(capture.text()).toContain('[redacted]');
    });
  });

  describe('when read on purpose', () => {
    it('reveal() returns the value', () => {
      expect(secret.reveal()).toBe(VALUE);
    });

    it('exposes its length and compares by value without revealing', () => {
      expect(secret.length).toBe(VALUE.length);
      expect(secret.equals(new Secret(VALUE))).toBe(true);
      expect(secret.equals(new Secret('other'))).toBe(false);
      expect(secret.equals(undefined)).toBe(false);
    });
  });
});
