import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createVaultDouble, type VaultDouble } from '../../../sandbox/vault/vault-double';
import { VaultSecretStore } from '../../../src/adapters/store/vault-store';
import { storeCommand } from '../../../src/procedures/steps/manual';

const TOKEN = 'manual-command-token';
const VALUE = `made "by hand" it's \\ $$ $tag$`;

/**
 * Runs the thread's command in bash as a person would, the value typed on stdin, with a `vault`
 * that prints its arguments; then writes them to the Vault double as `vault kv put` does.
 */
async function runAsPerson(vault: VaultDouble, command: string, value: string): Promise<void> {
  const child = promisify(execFile)('bash', ['-c', `vault() { printf '%s\\0' "$@"; }\n${command}`], {
    env: { PATH: process.env['PATH'] ?? '', USER: 'dana' },
  });
  child.child.stdin!.end(`${value}\n`);
  const args = (await child).stdout.split('\0').slice(0, -1);
  const [kv, put, ...rest] = args;
  expect([kv, put]).toEqual(['kv', 'put']);
  const cas = rest.find((a) => a.startsWith('-cas='));
  const path = rest.find((a) => a.startsWith('secret/'))!.slice('secret/'.length);
  const data = Object.fromEntries(
    rest
      .filter((a) => !a.startsWith('-') && a.includes('='))
      .map((a) => [a.split('=')[0], a.slice(a.indexOf('=') + 1)]),
  );
  const res = await fetch(`${vault.url}/v1/secret/data/${path}`, {
    method: 'POST',
    headers: { 'x-vault-token': TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify({ ...(cas ? { options: { cas: Number(cas.slice(5)) } } : {}), data }),
  });
  expect(res.status).toBe(200);
}

describe("the manual run's store command", () => {
  let vault: VaultDouble;
  let store: VaultSecretStore;
  beforeEach(async () => {
    vault = await createVaultDouble({ token: TOKEN });
    store = new VaultSecretStore({ endpoint: vault.url, token: TOKEN, timeoutMs: 1000 });
  });
  afterEach(async () => {
    await vault.close();
  });

  it.each([
    ['api-credentials/partner-portal-key', 'api_key'],
    ['database-credentials/legacy-db', 'password'],
    ['webhooks/partner-hook', 'current_secret'],
  ])('writes the value where the store reads it for %s (%s)', async (path, field) => {
    vault.seed(path, { [field]: 'old-value' });

    const command = storeCommand(path, store.valueField(path), 1);
    await runAsPerson(vault, command, VALUE);

    expect(command).not.toContain(VALUE);
    const read = await store.read(path);
    expect(read?.version).toBe(2);
    expect(read?.value?.reveal()).toBe(VALUE);
    expect(read?.rotatedBy).toBe('dana');
  });
});
