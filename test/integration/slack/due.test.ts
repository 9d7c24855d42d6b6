import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';

let h: AppHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

describe('/rotate due', () => {
  it.each(['due', 'due all', 'due all 1'])(
    'answers /rotate %s with every credential, most urgent first',
    async (text) => {
      await h.command(text);
      const reply = await eventually(() => h.byMethod('response_url')[0]);
      expect(reply.args.response_type).toBe('ephemeral');
      const shown = JSON.stringify(reply.args.blocks);
      expect(shown).toContain('*Rotation due* — 3 overdue');
      for (const name of ['crm-integration', 'monitoring-service', 'payment-gateway-api'])
        expect(shown).toContain(name);
      expect(shown).not.toContain('more:');
    },
  );

  it('answers a malformed page with usage', async () => {
    await h.command('due all two');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(JSON.stringify(reply.args)).toContain('`due` takes `all` and then an optional page number');
  });
});
