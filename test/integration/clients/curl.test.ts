import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld, type World } from '../../../sandbox/world';
import { requireClient, runClient } from '../../helpers/clients';
import { REDIS_URL } from '../../helpers/redis';

/** One line of Vault's file audit device, the fields the runbook's jq reads. */
interface AuditLine {
  type: string;
  time: string;
  auth?: { display_name?: string };
  request?: { path?: string; operation?: string; remote_address?: string };
}

/** curl, as the runbook and Vault's docs use it, against the Vault and provider doubles. */
describe('curl against the Vault and provider doubles', () => {
  let world: World;
  let dir: string;

  beforeAll(() => requireClient('curl', 'install curl'));
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'curl-'));
    world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: 'curl-suite' });
  });
  afterEach(async () => {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const curl = async (...args: string[]): Promise<string> => {
    const r = await runClient('curl', ['-sS', ...args]);
    if (r.code !== 0) throw new Error(`curl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const vaultToken = () => `X-Vault-Token: ${world.env.VAULT_TOKEN!}`;
  const adminToken = () => `Authorization: Bearer ${world.env.PAYMENT_PROVIDER_ADMIN_TOKEN!}`;

  describe('Vault', () => {
    it('answers curl -X LIST like GET ?list=true, on one kept-alive connection too', async () => {
      const url = `${world.vault.url}/v1/secret/metadata/api-credentials/`;
      const out = await curl(
        '-X',
        'LIST',
        '-H',
        vaultToken(),
        url,
        url,
        '-w',
        '\n%{http_code} %{num_connects}\n',
      );
      const [first, status1, second, status2] = out.trim().split('\n');
      for (const body of [first, second]) {
        expect((JSON.parse(body!) as { data: { keys: string[] } }).data.keys).toEqual([
          'crm-integration',
          'integration-service-account',
          'monitoring-service',
          'partner-portal-key',
          'payment-gateway-api',
          'reporting-sso-client',
        ]);
      }
      // Both answered 200; the second request reused the first one's connection.
      expect([status1, status2]).toEqual(['200 1', '200 0']);
      const empty = await runClient('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        '-X',
        'LIST',
        '-H',
        vaultToken(),
        `${world.vault.url}/v1/secret/metadata/nothing/`,
      ]);
      expect(empty.stdout).toBe('404');
    });

    it("answers the vault CLI's kv preflight: a KV version 2 mount, and 403 outside it", async () => {
      const mount = JSON.parse(
        await curl(
          '-H',
          vaultToken(),
          `${world.vault.url}/v1/sys/internal/ui/mounts/secret/api-credentials/payment-gateway-api`,
        ),
      ) as { data: { type: string; path: string; options: { version: string } } };
      expect(mount.data).toMatchObject({ type: 'kv', path: 'secret/', options: { version: '2' } });
      const outside = await runClient('curl', [
        '-s',
        '-w',
        '\n%{http_code}',
        '-H',
        vaultToken(),
        `${world.vault.url}/v1/sys/internal/ui/mounts/kv1/x`,
      ]);
      expect(outside.stdout.split('\n')).toEqual([
        '{"errors":["preflight capability check returned 403, please ensure client\'s policies grant access to path \\"kv1/x/\\""]}',
        '403',
      ]);
    });

    it("serves the runbook's dependency-map query, and writes its file audit log as Vault does", async () => {
      // vault kv get -format=json secret/api-credentials/payment-gateway-api | jq '.data.data.metadata'
      const read = JSON.parse(
        await curl(
          '-H',
          vaultToken(),
          `${world.vault.url}/v1/secret/data/api-credentials/payment-gateway-api`,
        ),
      ) as { data: { data: { metadata: unknown } } };
      expect(read.data.data.metadata).toEqual({
        issuer: 'payment-provider.example.com',
        consumers: ['web-app', 'mobile-backend', 'batch-processor'],
        rotation_contact: 'payments-team@example.org',
        last_rotated: '2024-08-15T10:30:00Z',
      });
      const lines = readFileSync(world.files.vaultAuditLog, 'utf8').trim().split('\n');
      const entries = lines.map((l) => JSON.parse(l) as AuditLine);
      // jq 'select(.request.path == "secret/data/api-credentials/payment-gateway-api") | [.time, .request.operation, .request.remote_address]'
      const reads = entries.filter(
        (e) => e.request?.path === 'secret/data/api-credentials/payment-gateway-api',
      );
      expect(
        reads.map((e) => [e.type, e.request?.operation, e.request?.remote_address, e.auth?.display_name]),
      ).toEqual([
        ['request', 'read', '127.0.0.1', 'token'],
        ['response', 'read', '127.0.0.1', 'token'],
      ]);
      expect(reads.every((e) => !Number.isNaN(Date.parse(e.time)))).toBe(true);
      // Values appear only as HMACs.
      const seeded = world.vault.current('api-credentials/payment-gateway-api')!.data.api_key as string;
      expect(readFileSync(world.files.vaultAuditLog, 'utf8')).not.toContain(seeded);
      expect(JSON.stringify(reads[1])).toContain('hmac-sha256:');
    });
  });

  describe('the provider', () => {
    it("runs the runbook's generate, check and revoke commands", async () => {
      const provider = world.provider.url;
      const created = JSON.parse(
        await curl(
          '-X',
          'POST',
          `${provider}/v1/api-keys`,
          '-H',
          adminToken(),
          '-H',
          'Content-Type: application/json',
          '-d',
          '{"name": "production-integration", "permissions": ["read", "write"]}',
        ),
      ) as { id: string; api_key: string };
      expect(created.api_key).toMatch(/^\S{20,}$/);
      const keys = JSON.parse(await curl(`${provider}/v1/api-keys`, '-H', adminToken())) as {
        keys: Array<{ id: string; status: string; created: string }>;
      };
      // jq '.keys[] | select(.id == "'"$NEW_KEY_ID"'") | {id, status, created}'
      expect(keys.keys.find((k) => k.id === created.id)).toMatchObject({ id: created.id, status: 'active' });
      world.provider.revocationDelayMs = 0;
      await curl('-X', 'DELETE', `${provider}/v1/api-keys/${created.id}`, '-H', adminToken());
      // curl -s -o /dev/null -w "%{http_code}" …/v1/test -H "Authorization: Bearer $OLD_API_KEY"  → 401 or 403
      const use = await runClient('curl', [
        '-s',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code}',
        `${provider}/v1/test`,
        '-H',
        `Authorization: Bearer ${created.api_key}`,
      ]);
      expect(use.stdout).toBe('401');
    });
  });
});
