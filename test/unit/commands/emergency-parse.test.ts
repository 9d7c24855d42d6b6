import { parseMentionText } from '../../../commands/emergency-parse';
import { parseRotateText } from '../../../commands/rotate-parse';

describe('parseRotateText: emergency', () => {
  it.each([
    ['emergency payment-gateway-api', { kind: 'emergency', names: ['payment-gateway-api'] }],
    [
      'emergency payment-gateway-api crm-integration INC-2024-0042',
      { kind: 'emergency', names: ['payment-gateway-api', 'crm-integration'], incident: 'INC-2024-0042' },
    ],
    [
      'EMERGENCY inc-2024-0042 payment-gateway-api payment-gateway-api',
      { kind: 'emergency', names: ['payment-gateway-api'], incident: 'INC-2024-0042' },
    ],
    [
      'emergency --issuer payment-provider.example.com INC-7',
      { kind: 'emergency', names: [], issuer: 'payment-provider.example.com', incident: 'INC-7' },
    ],
    [
      'emergency --issuer=payment-provider.example.com',
      { kind: 'emergency', names: [], issuer: 'payment-provider.example.com' },
    ],
  ])('reads %j', (text, expected) => {
    expect(parseRotateText(text)).toEqual(expected);
  });

  it.each([
    ['emergency', /Which credentials are compromised/],
    ['emergency INC-2024-0042', /Which credentials are compromised/],
    ['emergency --issuer', /`--issuer` takes an issuer name/],
    ['emergency xy INC-1 INC-2', /Two incident references/],
    ['emergency --force payment-gateway-api', /Unknown option `--force`/],
    ['emergency Payment_Gateway', /name/i],
  ])('answers %j with usage', (text, problem) => {
    const parsed = parseRotateText(text);
    expect(parsed.kind).toBe('usage');
    expect(parsed).toMatchObject({ problem: expect.stringMatching(problem) });
  });

  it('takes a few dozen names in one command', () => {
    const names = Array.from({ length: 40 }, (_, i) => `credential-number-${i}`);
    expect(parseRotateText(`emergency ${names.join(' ')}`)).toMatchObject({ kind: 'emergency', names });
  });
});

describe('parseRotateText: incident', () => {
  it('reads the reference, upper-cased', () => {
    expect(parseRotateText('incident inc-2024-0042')).toEqual({ kind: 'incident', ref: 'INC-2024-0042' });
  });

  it.each(['incident', 'incident payment-gateway-api', 'incident INC-1 INC-2'])(
    'answers %j with usage',
    (text) => {
      expect(parseRotateText(text)).toMatchObject({
        kind: 'usage',
        problem: expect.stringMatching(/incident reference/),
      });
    },
  );
});

describe('parseMentionText', () => {
  it('drops the bot’s own mention wherever it stands and reads what follows `compromised`', () => {
    expect(
      parseMentionText('<@U_ROTATOR> compromised payment-gateway-api crm-integration', 'U_ROTATOR'),
    ).toEqual({
      kind: 'emergency',
      names: ['payment-gateway-api', 'crm-integration'],
    });
    expect(
      parseMentionText('Compromised payment-gateway-api INC-9 <@U_ROTATOR|credential-rotator>', 'U_ROTATOR'),
    ).toEqual({
      kind: 'emergency',
      names: ['payment-gateway-api'],
      incident: 'INC-9',
    });
  });

  it('keeps another user’s mention, which is no credential name', () => {
    expect(parseMentionText('<@U_ROTATOR> compromised <@U_BOB>', 'U_ROTATOR').kind).toBe('usage');
  });

  it('explains itself when the mention is not a report', () => {
    expect(parseMentionText('<@U_ROTATOR> hello', 'U_ROTATOR')).toMatchObject({
      kind: 'usage',
      problem: expect.stringMatching(/compromised <name>/),
    });
  });
});
