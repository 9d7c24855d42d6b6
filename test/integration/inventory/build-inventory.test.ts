import { VaultSecretStore } from '../../../src/adapters/store/vault-store';
import { buildInventory } from '../../../src/inventory/build';
import { createVaultDouble, type VaultDouble } from '../../../sandbox/vault/vault-double';
import { specFixture } from '../../helpers/fixtures';

const TOKEN = 'hvs.inventory-test';
const NOW = new Date('2026-11-26T10:00:00Z');
const DAY = 86_400_000;
const N = 2_000;
const names = Array.from({ length: N }, (_, i) => `credential-${String(i).padStart(4, '0')}`);
const specs = names.map((name) =>
  specFixture({ name, risk: 'standard', store: `api-credentials/${name}`, channel: 'C_PLATFORM' }),
);
const BROKEN = 'credential-0777';

describe('the inventory over 2,000 credentials in the Vault double', () => {
  let vault: VaultDouble;
  let store: VaultSecretStore;

  beforeAll(async () => {
    vault = await createVaultDouble({ token: TOKEN });
    names.forEach((name, i) => {
      const rotatedAt = new Date(NOW.getTime() - (i % 120) * DAY).toISOString();
      vault.seed(
        `api-credentials/${name}`,
        { api_key: `value-${i}`, rotated_at: rotatedAt },
        { createdTime: rotatedAt },
      );
    });
    store = new VaultSecretStore({
      endpoint: vault.url,
      token: TOKEN,
      retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 },
    });
  });
  afterAll(() => vault.close());

  it('keeps 16 reads in flight at most, reads every credential, and one 500 makes one row unknown', async () => {
    // Every attempt at one credential fails: retries cannot hide it.
    vault.faults.add({
      path: `/\\/data\\/api-credentials\\/${BROKEN}$/`,
      status: 500,
      body: { errors: ['internal error'] },
    });
    // A round trip to Vault takes a few milliseconds: without it the double answers each request
    // before the next arrives, and nothing would ever be in flight together.
    vault.faults.add({ path: '/v1/secret/', latencyMs: 5 });
    vault.traffic.reset();

    const report = await buildInventory({ catalog: specs, store }, { now: NOW, concurrency: 16 });

    expect(vault.traffic.maxInFlight).toBeLessThanOrEqual(16);
    // Not vacuous: reads did overlap (how many depends on the machine's load, so no exact count).
    expect(vault.traffic.maxInFlight).toBeGreaterThan(1);
    const unread = names.filter((n) => !vault.traffic.byPath.get(`/v1/secret/data/api-credentials/${n}`));
    expect(unread).toEqual([]);
    expect(vault.traffic.byPath.get('/v1/secret/metadata/api-credentials/')).toBe(1);

    expect(report.rows).toHaveLength(N);
    const unknown = report.rows.filter((r) => r.status === 'unknown');
    expect(unknown).toEqual([
      expect.objectContaining({ name: BROKEN, reason: expect.stringContaining('500') }),
    ]);
    expect(report.drift).toEqual([]);
    expect(report.problems).toBeUndefined();
    // The statuses follow the policy table (api_key, standard: 90 days, due-soon within 14).
    expect(report.rows[10]).toMatchObject({ status: 'ok', ageDays: 10, maxAgeDays: 90, daysLeft: 80 });
    expect(report.rows[80]).toMatchObject({ status: 'due-soon', ageDays: 80, daysLeft: 10 });
    expect(report.rows[100]).toMatchObject({ status: 'overdue', ageDays: 100, daysLeft: -10 });
    expect(report.rows[5]).toMatchObject({ currentVersion: 1, measuredFrom: 'rotated_at' });
    // No row carries a value.
    expect(JSON.stringify(report)).not.toContain('value-');
  });

  it('with a smaller setting, keeps to it', async () => {
    vault.faults.clear();
    vault.faults.add({ path: '/v1/secret/', latencyMs: 5 });
    vault.traffic.reset();
    const report = await buildInventory(
      { catalog: specs.slice(0, 200), store },
      { now: NOW, concurrency: 3, listVault: false },
    );
    expect(vault.traffic.maxInFlight).toBeLessThanOrEqual(3);
    expect(vault.traffic.maxInFlight).toBeGreaterThan(1);
    expect(report.rows.filter((r) => r.status === 'unknown')).toEqual([]);
  });
});
