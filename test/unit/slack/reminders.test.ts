import type { Snooze } from '../../../src/domain/digest';
import type { InventoryRow } from '../../../src/domain/inventory';
import { Reminders } from '../../../src/slack/reminders';

const NOW = new Date('2026-11-30T09:00:00Z');
const late = (name: string, channel?: string): InventoryRow => ({
  name,
  path: `api-credentials/${name}`,
  inCatalog: true,
  inVault: true,
  type: 'api_key',
  risk: 'standard',
  ...(channel ? { channel } : {}),
  rotatedAt: '2026-01-01T00:00:00Z',
  status: 'overdue',
});

/** SECURITY_CHANNEL left at its default: a channel *name*, where the catalog names channels by id. */
function reminders(securityChannel = 'security-notifications') {
  const snoozes = new Map<string, Snooze>();
  return new Reminders({
    loadInventory: async () => ({
      generatedAt: NOW.toISOString(),
      rows: [late('orphan'), late('pay', 'C_PAYMENTS')],
      drift: [],
    }),
    snoozes: { set: async (s) => void snoozes.set(s.credential, s), active: async () => snoozes },
    settings: { securityChannel, dueSoonDays: 14 },
    clock: { now: () => NOW },
  });
}

describe('the security channel configured by name', () => {
  it('`/rotate due` typed in it (an id and its name) shows what is due there', async () => {
    const view = JSON.stringify(
      (await reminders().forChannel('C_SECURITY', undefined, 'security-notifications')).blocks,
    );
    expect(view).toContain('*orphan*');
    expect(view).not.toContain('Nothing is due in this channel');
  });

  it('is linked as #name in the digest, never as a broken <#name>', async () => {
    const [security] = (await reminders().messages()).filter((m) => !m.channel.startsWith('C_'));
    expect(security!.channel).toBe('security-notifications');
    expect(security!.view.text).toContain('Rotation digest for #security-notifications');
    expect(JSON.stringify(security!.view)).not.toContain('<#security-notifications>');
  });

  it('an id still links as <#id>, and another channel still sees only its own', async () => {
    const [pay] = await reminders('C_SECURITY').messages();
    expect(pay!.view.text).toContain('Rotation digest for <#C_PAYMENTS>');
    const view = JSON.stringify((await reminders().forChannel('C_PAYMENTS', undefined, 'payments')).blocks);
    expect(view).toContain('*pay*');
    expect(view).not.toContain('*orphan*');
  });
});
