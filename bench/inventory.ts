/**
 * Claim: the inventory of 10,000 credentials is at least 30× faster than the runbook's loop (one
 * LIST, then one `vault kv metadata get` per credential, one at a time), measured in the same run
 * against the same Vault double with the same round-trip latency. Also reports how the cost grows
 * from 100 to 10,000 credentials.
 *
 * The runbook's loop runs one CLI process per credential; the `vault` CLI is not on these machines,
 * so `curl` (the README's stand-in for it) plays it: a process and a connection per read, as in
 * the runbook. The same loop with node-vault in this process (no process per read) is reported
 * beside it, so the part of the ratio that is process start-up is visible. The Vault double runs in
 * a process of its own, as Vault does: its work is not counted against the inventory's CPU.
 */
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import NodeVault from 'node-vault';
import { VaultSecretStore } from '../src/adapters/store/vault-store';
import type { CredentialSpec } from '../src/domain/credential';
import { buildInventory, DEFAULT_INVENTORY_CONCURRENCY } from '../src/inventory/build';
import { specFixture } from '../test/helpers/fixtures';
import type { Bench } from './bench';

const TOKEN = 'hvs.bench';
/** A Vault round trip in the same region (storage backend included). */
const LATENCY_MS = 5;
const SIZES = [100, 1_000, 10_000];
const CONCURRENCY = Number(process.env.INVENTORY_CONCURRENCY || DEFAULT_INVENTORY_CONCURRENCY);
const NOW = new Date('2026-11-26T10:00:00Z');

interface RemoteVault {
  url: string;
  close(): Promise<unknown>;
}

const nameOf = (i: number) => `credential-${String(i).padStart(5, '0')}`;

/** The Vault double in its own process (a real Vault is not in the bot's process), and the catalog. */
async function world(): Promise<{ vault: RemoteVault; specs: CredentialSpec[] }> {
  const max = Math.max(...SIZES);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(__dirname, 'vault-process.ts'),
      TOKEN,
      String(max),
      String(LATENCY_MS),
      NOW.toISOString(),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve((JSON.parse(out.split('\n')[0]!) as { url: string }).url);
    });
    child.on('exit', (code) => reject(new Error(`the Vault process exited (${code})`)));
  });
  const specs = Array.from({ length: max }, (_, i) =>
    specFixture({ name: nameOf(i), risk: 'standard', store: `api-credentials/${nameOf(i)}` }),
  );
  return {
    vault: { url, close: () => new Promise((r) => (child.once('exit', r), child.stdin.end())) },
    specs,
  };
}

const run = promisify(execFile);

/** The runbook's loop as the runbook runs it: a process per call (curl for the vault CLI). */
async function runbookCliLoop(vault: RemoteVault, n: number): Promise<number> {
  const curl = (method: string, path: string) =>
    run('curl', ['-sf', '-X', method, '-H', `X-Vault-Token: ${TOKEN}`, `${vault.url}/v1/${path}`]);
  const t0 = performance.now();
  const listed = JSON.parse((await curl('LIST', 'secret/metadata/api-credentials/')).stdout) as {
    data: { keys: string[] };
  };
  for (const key of listed.data.keys.slice(0, n)) await curl('GET', `secret/metadata/api-credentials/${key}`);
  return performance.now() - t0;
}

/** The same loop in this process with node-vault: LIST, then each credential's metadata, one at a time. */
async function runbookLoop(vault: RemoteVault, n: number): Promise<number> {
  const client = NodeVault({ endpoint: vault.url, token: TOKEN, noCustomHTTPVerbs: true });
  const t0 = performance.now();
  const listed = (await client.list('secret/metadata/api-credentials/')) as { data: { keys: string[] } };
  for (const key of listed.data.keys.slice(0, n)) await client.read(`secret/metadata/api-credentials/${key}`);
  return performance.now() - t0;
}

async function inventory(vault: RemoteVault, specs: CredentialSpec[], n: number, concurrency: number) {
  const store = new VaultSecretStore({ endpoint: vault.url, token: TOKEN });
  const t0 = performance.now();
  // Only the first n are in the catalog and read; the LIST still returns all 10,000 (as Vault would).
  const report = await buildInventory(
    { catalog: specs.slice(0, n), store },
    { now: NOW, concurrency, listVault: n === specs.length },
  );
  const ms = performance.now() - t0;
  if (report.rows.length !== n) throw new Error(`inventory has ${report.rows.length} rows, expected ${n}`);
  return ms;
}

export const inventoryBench: Bench = {
  name: 'inventory',
  claim:
    "inventory of 10,000 credentials vs the runbook's sequential loop (list, then metadata one at a time)",
  target: 30,
  higherIsBetter: true,
  async run() {
    const { vault, specs } = await world();
    try {
      const out: Record<string, number> = {};
      for (const n of SIZES) {
        out[`inventoryMs_${n}`] = Math.round(await inventory(vault, specs, n, CONCURRENCY));
        out[`perCredentialMs_${n}`] = Number((out[`inventoryMs_${n}`]! / n).toFixed(3));
      }
      out.inventoryMs_10000_at16 = Math.round(await inventory(vault, specs, 10_000, 16));
      for (const n of SIZES) out[`inProcessLoopMs_${n}`] = Math.round(await runbookLoop(vault, n));
      out.runbookCliLoopMs_10000 = Math.round(await runbookCliLoop(vault, 10_000));
      return {
        ratio: out.runbookCliLoopMs_10000 / out.inventoryMs_10000!,
        ratioToInProcessLoop: Number((out.inProcessLoopMs_10000! / out.inventoryMs_10000!).toFixed(2)),
        concurrency: CONCURRENCY,
        latencyMs: LATENCY_MS,
        ratioAt16: Number((out.runbookCliLoopMs_10000 / out.inventoryMs_10000_at16).toFixed(2)),
        ...out,
      };
    } finally {
      await vault.close();
    }
  },
};
