import type { InventoryRow } from '../../../src/domain/inventory';
import { homeView, HOME_MAX_BLOCKS } from '../../../src/slack/views';

const row = (i: number): InventoryRow => ({
  name: `credential-${String(i).padStart(5, '0')}-with-a-rather-long-name`,
  path: `api-credentials/credential-${i}`,
  inCatalog: true,
  inVault: true,
  status: i % 3 === 0 ? 'overdue' : 'ok',
  dueAt: '2026-12-01T00:00:00.000Z',
  daysLeft: i % 3 === 0 ? -3 : 5,
});

describe('the Home tab', () => {
  it("stays within Slack's limits whatever the inventory holds", () => {
    const rows = Array.from({ length: 10_000 }, (_, i) => row(i));
    const drift = rows.map((r) => ({ kind: 'vault-only' as const, path: r.path }));
    const view = homeView({
      report: { generatedAt: '2026-11-26T10:00:00.000Z', rows, drift, problems: ['Vault LIST failed'] },
      open: [],
      rows: rows.slice(0, 40).map((r) => ({ row: r })),
      more: 9_960,
    });
    expect(view.type).toBe('home');
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_MAX_BLOCKS);
    for (const b of view.blocks)
      if (b.type === 'section') expect(b.text!.text.length).toBeLessThanOrEqual(3000);
    const shown = JSON.stringify(view.blocks);
    expect(shown).toContain('🔴 3,334 overdue · 🟢 6,666 ok');
    expect(shown).toContain('…and 9,960 more');
    expect(shown).toContain('*Drift* (10000)');
    expect(shown).toContain('Vault LIST failed');
    // Every one of the 40 detailed rows is there.
    expect(shown).toContain('credential-00039-with-a-rather-long-name');
  });
});
