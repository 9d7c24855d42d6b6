import { CREDENTIAL_TYPES, RISKS } from '../../../src/domain/credential';
import { SCHEDULE } from '../../../src/domain/policy';
import type { StoredCredential } from '../../../src/domain/ports';
import { ageOfRow, byUrgency, inventoryRow } from '../../../src/inventory/row';
import { specFixture } from '../../helpers/fixtures';

const NOW = new Date('2026-11-26T10:00:00Z');
const DAY = 86_400_000;
const PATH = 'api-credentials/payment-gateway-api';
const stored = (daysAgo: number, extra: Partial<StoredCredential> = {}): StoredCredential => {
  const t = new Date(NOW.getTime() - daysAgo * DAY).toISOString();
  return { path: PATH, version: 4, createdTime: t, rotatedAt: t, ...extra };
};

describe('an inventory row against every row of the policy table', () => {
  for (const type of CREDENTIAL_TYPES)
    for (const risk of RISKS) {
      const max = SCHEDULE[type][risk];
      const spec = specFixture({ type, risk });
      it(`${type}, ${risk}: ${max} days`, () => {
        const at = (days: number) =>
          inventoryRow(spec, PATH, { kind: 'found', stored: stored(days) }, NOW, 14);
        expect(at(max - 15)).toMatchObject({ status: 'ok', daysLeft: 15, maxAgeDays: max });
        expect(at(max - 14)).toMatchObject({ status: 'due-soon', daysLeft: 14 });
        expect(at(max)).toMatchObject({ status: 'due-soon', daysLeft: 0 });
        expect(at(max + 1)).toMatchObject({ status: 'overdue', daysLeft: -1, ageDays: max + 1 });
        // Half a day past due is overdue by a day, never "in 0 days".
        expect(at(max + 0.5)).toMatchObject({ status: 'overdue', daysLeft: -1, ageDays: max });
        expect(at(max - 0.5)).toMatchObject({ status: 'due-soon', daysLeft: 1 });
      });
    }
});

describe('where the age comes from and what cannot be known', () => {
  const spec = specFixture();

  it('counts from rotated_at, falling back to created_time', () => {
    const fromCreated = inventoryRow(
      spec,
      PATH,
      { kind: 'found', stored: stored(10, { rotatedAt: undefined }) },
      NOW,
      14,
    );
    expect(fromCreated).toMatchObject({ ageDays: 10, measuredFrom: 'created_time', currentVersion: 4 });
    const rotated = stored(40, {
      rotatedAt: new Date(NOW.getTime() - 3 * DAY).toISOString(),
      rotatedBy: 'alice',
    });
    expect(inventoryRow(spec, PATH, { kind: 'found', stored: rotated }, NOW, 14)).toMatchObject({
      ageDays: 3,
      measuredFrom: 'rotated_at',
      rotatedBy: 'alice',
    });
  });

  it('a catalog entry with nothing in Vault was never rotated; a listed one that cannot be read is unknown', () => {
    expect(inventoryRow(spec, PATH, { kind: 'absent', listed: false }, NOW, 14)).toMatchObject({
      status: 'never-rotated',
      inVault: false,
    });
    expect(inventoryRow(spec, PATH, { kind: 'absent', listed: true }, NOW, 14)).toMatchObject({
      status: 'unknown',
      inVault: true,
      reason: expect.stringContaining('deleted'),
    });
    expect(
      inventoryRow(spec, PATH, { kind: 'failed', reason: 'Vault read failed: 500', listed: true }, NOW, 14),
    ).toMatchObject({ status: 'unknown', reason: 'Vault read failed: 500' });
  });

  it('a Vault entry the catalog does not know has no policy: unknown, named after its path', () => {
    const row = inventoryRow(
      undefined,
      'api-credentials/legacy',
      { kind: 'found', stored: stored(400) },
      NOW,
      14,
    );
    expect(row).toMatchObject({ name: 'legacy', inCatalog: false, inVault: true, status: 'unknown' });
    expect(row.maxAgeDays).toBeUndefined();
  });

  it('orders by urgency and maps back to the policy views', () => {
    const rows = [
      inventoryRow(spec, PATH, { kind: 'found', stored: stored(1) }, NOW, 14),
      inventoryRow({ ...spec, name: 'b' }, 'x/b', { kind: 'found', stored: stored(50) }, NOW, 14),
      inventoryRow({ ...spec, name: 'c' }, 'x/c', { kind: 'absent', listed: false }, NOW, 14),
    ];
    expect(byUrgency(rows).map((r) => r.status)).toEqual(['overdue', 'never-rotated', 'ok']);
    expect(ageOfRow(rows[1]!)).toMatchObject({ status: 'overdue', ageDays: 50, maxAgeDays: 30 });
  });
});
