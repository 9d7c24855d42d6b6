import { eventually } from '../../helpers/eventually';

describe('eventually', () => {
  it('returns the first truthy value', async () => {
    let n = 0;
    await expect(eventually(() => (++n >= 3 ? `look ${n}` : undefined), { intervalMs: 1 })).resolves.toBe(
      'look 3',
    );
  });

  describe('when the condition never holds', () => {
    it('fails, saying how long it waited and what it saw last', async () => {
      await expect(eventually(() => 0, { timeoutMs: 30, intervalMs: 5 })).rejects.toThrow(
        'timed out after 30 ms: condition not met, last value 0',
      );
    });

    it('uses the caller’s description of what it waited for', async () => {
      await expect(
        eventually(async () => false, {
          timeoutMs: 10,
          describe: (last) => `run r1 to finish (saw ${last})`,
        }),
      ).rejects.toThrow('timed out after 10 ms: run r1 to finish (saw false)');
    });
  });

  it('fails at once when the look itself throws', async () => {
    const started = Date.now();
    await expect(
      eventually(() => {
        throw new Error('redis down');
      }),
    ).rejects.toThrow('redis down');
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
