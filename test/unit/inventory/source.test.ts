import { catalogInventory } from '../../../src/inventory/source';
import { spec } from '../../integration/slack/fake-requests';

const NOW = new Date('2026-11-30T09:00:00Z');

describe('the minimal catalog inventory', () => {
  it('marks one unreadable credential unknown, one absent from Vault never-rotated, and ages the rest', async () => {
    const catalog = new Map(['ok-one', 'broken', 'absent'].map((n) => [n, spec(n)]));
    const load = catalogInventory({
      catalog,
      clock: { now: () => NOW },
      dueSoonDays: 14,
      store: {
        read: async (path) => {
          if (path.endsWith('broken'))
            throw Object.assign(new Error('Status 500'), { response: { statusCode: 500 } });
          if (path.endsWith('absent')) return undefined;
          return { path, version: 3, createdTime: '2026-01-01T00:00:00Z', rotatedAt: '2026-11-01T00:00:00Z' };
        },
      },
    });
    const report = await load();
    const byName = new Map(report.rows.map((r) => [r.name, r]));
    expect(byName.get('ok-one')).toMatchObject({ status: 'ok', ageDays: 29, maxAgeDays: 90, daysLeft: 60 });
    expect(byName.get('broken')).toMatchObject({ status: 'unknown', reason: 'vault read failed: HTTP 500' });
    expect(byName.get('absent')).toMatchObject({ status: 'never-rotated', inVault: false });
    expect(report.drift).toEqual([{ kind: 'catalog-only', name: 'absent', path: 'api-credentials/absent' }]);
  });
});
