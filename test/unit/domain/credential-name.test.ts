import { parseCredentialName } from '../../../src/domain/credential';
import { RotatorError } from '../../../src/domain/errors';

/** Runs parseCredentialName and returns what it threw (failing the test if it threw nothing). */
function refusal(input: string): RotatorError {
  let thrown: unknown;
  try {
    parseCredentialName(input);
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(RotatorError);
  return thrown as RotatorError;
}

describe('parseCredentialName', () => {
  describe('when the name is valid', () => {
    it.each(['payment-gateway-api', 'crm-integration', 'monitoring-service', 'ab', '9lives', 'a'.repeat(63)])(
      'accepts %s unchanged',
      (name) => {
        expect(parseCredentialName(name)).toBe(name);
      },
    );

    it('trims surrounding whitespace and returns the clean name', () => {
      expect(parseCredentialName('  payment-gateway-api \n')).toBe('payment-gateway-api');
    });
  });

  describe.each<[string, string]>([
    ['a path traversal', '../x'],
    ['URL-encoded dots', '%2e%2e'],
    ['URL-encoded traversal', '%2e%2e%2fsecret'],
    ['a path separator', 'a/b'],
    ['a backslash', 'a\\b'],
    ['a space', 'a b'],
    ['upper-case letters', 'Payment'],
    ['64 characters', 'a'.repeat(64)],
    ['a single character', 'a'],
    ["a leading '-'", '-payment'],
    ['an underscore', 'payment_gateway'],
    ["a Cyrillic look-alike 'а'", 'p\u0430yment'],
    ['fullwidth letters', '\uff50\uff41\uff59\uff4d\uff45\uff4e\uff54'],
    ['a zero-width space', 'pay\u200bment'],
    ['nothing', ''],
    ['only whitespace', '   '],
    ['an embedded newline', 'payment-gateway-api\nrotate all'],
    ['a carriage return', 'payment\r\nx'],
    ['a NUL byte', 'payment\u0000'],
    ['a Slack mention', '<!channel>'],
  ])('when the name contains %s', (_case, input) => {
    it("refuses it with code 'invalid_name'", () => {
      const e = refusal(input);
      expect(e.code).toBe('invalid_name');
      expect(e.transient).toBe(false);
    });

    it('quotes the input as a JSON string, non-ASCII escaped, and explains the rule', () => {
      const e = refusal(input);
      const escaped = JSON.stringify(input.trim()).replace(
        /[^\x20-\x7e]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      );
      expect(e.message).toContain(escaped);
      expect(e.message).not.toMatch(/[^\x20-\x7e]/);
      expect(e.message).toMatch(
        /is not a credential name: use 2-63 characters, lower-case a-z, digits and '-'/,
      );
    });

    it('never puts a raw control character into the message', () => {
      // eslint-disable-next-line no-control-regex
      expect(refusal(input).message).not.toMatch(/[\u0000-\u001f\u007f]/);
    });
  });

  describe('when the name is very long', () => {
    it('quotes only its first 70 characters', () => {
      const e = refusal('x'.repeat(500));
      expect(e.message).toContain(JSON.stringify('x'.repeat(70)));
      expect(e.message).not.toContain('x'.repeat(71));
    });
  });

  describe('when the name is only a newline-padded valid name', () => {
    it('does not let the newline through to the result', () => {
      expect(parseCredentialName('payment-gateway-api\n')).not.toContain('\n');
    });
  });
});
