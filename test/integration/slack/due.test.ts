import { eventually } from '../../helpers/eventually';
import { startHarness, type AppHarness } from './app-harness';

let h: AppHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

const NAMES = ['crm-integration', 'monitoring-service', 'payment-gateway-api'];
const PAYMENTS = { channel: 'C_PAYMENTS', channelName: 'payments' };

describe('/rotate due', () => {
  it("answers with the channel's own digest: its credentials, overdue first, with Rotate now and Snooze", async () => {
    await h.command('due', 'U_ALICE', PAYMENTS);
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(reply.args.response_type).toBe('ephemeral');
    const shown = JSON.stringify(reply.args.blocks);
    expect(shown).toContain('3 overdue');
    for (const name of NAMES) expect(shown).toContain(`*${name}* — *overdue by 7 days*`);
    expect(shown.match(/"action_id":"digest_rotate_now"/g)).toHaveLength(3);
    expect(shown.match(/"action_id":"digest_snooze"/g)).toHaveLength(3);
  });

  it('says nothing is due in a channel that owns nothing due', async () => {
    await h.command('due');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    const shown = JSON.stringify(reply.args.blocks);
    expect(shown).toContain('Nothing is due in this channel');
    for (const name of NAMES) expect(shown).not.toContain(name);
  });

  it.each(['due all', 'due all 1'])('answers /rotate %s with every channel, naming each', async (text) => {
    await h.command(text);
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    const shown = JSON.stringify(reply.args.blocks);
    expect(shown).toContain('3 overdue');
    for (const name of NAMES) expect(shown).toContain(name);
    expect(shown).toContain('<#C_PAYMENTS>');
    expect(shown).not.toContain('more due:');
  });

  it('answers a malformed page with usage', async () => {
    await h.command('due all two');
    const reply = await eventually(() => h.byMethod('response_url')[0]);
    expect(JSON.stringify(reply.args)).toContain(
      '`due` takes an optional `all` and then an optional page number',
    );
  });
});
