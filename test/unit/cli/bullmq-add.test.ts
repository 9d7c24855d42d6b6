import { Packr } from 'msgpackr';
import { pack } from '../../../src/cli/bullmq-add';

/** BullMQ's packer, configured as its Redis backend configures it. */
const bullmq = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

describe('pack', () => {
  it.each([
    [
      'the arguments of an added job',
      ['rotator:requests:', '', 'rotate', 1795797706608, null, null, undefined, undefined, null, null],
    ],
    [
      'the options the CLI sends',
      { attempts: 0, removeOnComplete: { age: 3600 }, removeOnFail: { age: 86_400 } },
    ],
    [
      'integers of every width',
      [
        0,
        127,
        128,
        255,
        256,
        65_535,
        65_536,
        2 ** 32 - 1,
        2 ** 32,
        -1,
        -32,
        -33,
        -128,
        -129,
        -32_768,
        -32_769,
        -(2 ** 31),
      ],
    ],
    ['fractions, booleans and an undefined property', { a: 1.5, b: true, c: false, d: undefined }],
    [
      'strings of every length class, and non-ASCII',
      ['', 'é', 'x'.repeat(31), 'x'.repeat(32), 'x'.repeat(255), 'x'.repeat(256)],
    ],
  ])('writes %s byte for byte as BullMQ does', (_, value) => {
    expect(pack(value).toString('hex')).toBe(Buffer.from(bullmq.pack(value)).toString('hex'));
  });

  it('refuses what the CLI never sends rather than writing it wrong', () => {
    expect(() => pack('x'.repeat(65_536))).toThrow(/not needed/);
    expect(() => pack(() => 1)).toThrow(/not needed/);
  });
});
