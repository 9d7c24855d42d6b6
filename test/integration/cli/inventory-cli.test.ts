import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inventoryCli } from '../../../src/cli/inventory';
import { startWorld, type World } from '../../../sandbox/world';

const NOW = new Date('2026-11-26T10:00:00Z');

describe('npm run inventory against the demo world', () => {
  let world: World;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'inventory-cli-'));
    world = await startWorld({ dir, redisUrl: 'redis://127.0.0.1:6379', queuePrefix: 'unused' });
  });
  afterAll(async () => {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Only what the inventory needs: Vault, the catalog, the cluster. No Slack, no issuer tokens. */
  const env = () => ({
    VAULT_ADDR: world.env.VAULT_ADDR,
    VAULT_TOKEN: world.env.VAULT_TOKEN,
    CATALOG_PATH: world.env.CATALOG_PATH,
    KUBECONFIG: world.env.KUBECONFIG,
  });
  async function run(argv: string[], vars: Record<string, string | undefined> = env()) {
    let out = '';
    let err = '';
    const code = await inventoryCli(argv, vars, { out: (t) => (out += t), err: (t) => (err += t), now: NOW });
    return { code, out, err };
  }

  it("prints the runbook's TSV with type, risk, age, policy limit and status", async () => {
    const { code, out, err } = await run([]);
    expect(code).toBe(0);
    const rows = out.split('\n').filter(Boolean);
    // The runbook's three, as its table and seed dates make them on NOW.
    expect(rows).toEqual(
      expect.arrayContaining([
        'payment-gateway-api\t2024-08-15T10:30:00Z\t1\tapi_key\thigh\t832\t30\toverdue\t',
        'crm-integration\t2024-09-22T14:15:00Z\t1\tapi_key\tstandard\t794\t90\toverdue\t',
        'monitoring-service\t2024-07-01T09:00:00Z\t1\tservice_account_token\tstandard\t878\t90\toverdue\t',
      ]),
    );
    // Every catalog entry, one row each, nine columns.
    expect(rows.map((r) => r.split('\t')[0]).sort()).toEqual(
      world.catalog.credentials.map((c) => c.name).sort(),
    );
    for (const r of rows) expect(r.split('\t')).toHaveLength(9);
    expect(err).toBe('');
  });

  it('--json gives the report with drift, for scripts', async () => {
    world.vault.seed('api-credentials/legacy-token', { api_key: 'x' });
    const { code, out, err } = await run(['--json']);
    expect(code).toBe(0);
    const report = JSON.parse(out) as { rows: Array<{ name: string; status: string }>; drift: unknown[] };
    expect(report.rows.map((r) => [r.name, r.status])).toContainEqual(['legacy-token', 'unknown']);
    expect(report.drift).toEqual([{ kind: 'vault-only', path: 'api-credentials/legacy-token' }]);
    expect(err).toBe('');
  });

  it('refuses an unknown flag and a configuration without Vault, naming the variable', async () => {
    expect((await run(['--csv'])).code).toBe(2);
    const missing = await run([], { ...env(), VAULT_ADDR: undefined });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('VAULT_ADDR');
  });
});
