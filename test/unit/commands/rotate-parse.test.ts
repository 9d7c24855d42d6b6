import { parseRotateText } from '../../../commands/rotate-parse';

describe('parseRotateText: due', () => {
  it.each([
    ['due', { kind: 'due' }],
    ['due all', { kind: 'due', all: true }],
    ['DUE All', { kind: 'due', all: true }],
    ['due all 3', { kind: 'due', all: true, page: 3 }],
    ['due 2', { kind: 'due', page: 2 }],
  ])('reads %j', (text, expected) => {
    expect(parseRotateText(text)).toEqual(expected);
  });

  it.each(['due payment-gateway-api', 'due all 0', 'due all two', 'due all 2 3', 'due 0', 'due 2 3'])(
    'answers %j with usage',
    (text) => {
      expect(parseRotateText(text)).toEqual({
        kind: 'usage',
        problem:
          '`due` takes an optional `all` and then an optional page number: `/rotate due 2`, `/rotate due all 2`.',
      });
    },
  );

  it('keeps the other subcommands as they were', () => {
    expect(parseRotateText('status')).toEqual({ kind: 'status' });
    expect(parseRotateText('help me')).toMatchObject({
      kind: 'usage',
      problem: '`help` takes no credential name.',
    });
    expect(parseRotateText('plan')).toMatchObject({ problem: '`plan` takes exactly one credential name.' });
  });
});
