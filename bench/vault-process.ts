/**
 * The inventory bench's Vault, in a process of its own as a real Vault is: seeds `count` entries
 * under api-credentials/ (rotated_at spread over 200 days before `now`), answers every KV request
 * `latencyMs` late, prints `{"url": …}` once ready and exits when its stdin closes.
 * Usage: tsx bench/vault-process.ts <token> <count> <latencyMs> <now ISO>
 */
import { createVaultDouble } from '../sandbox/vault/vault-double';

async function main(): Promise<void> {
  const [token, count, latency, now] = process.argv.slice(2);
  const vault = await createVaultDouble({ token: token! });
  const at = Date.parse(now!);
  for (let i = 0; i < Number(count); i++) {
    const rotatedAt = new Date(at - (i % 200) * 86_400_000).toISOString();
    vault.seed(
      `api-credentials/credential-${String(i).padStart(5, '0')}`,
      { api_key: `v${i}`, rotated_at: rotatedAt },
      { createdTime: rotatedAt },
    );
  }
  vault.faults.add({ path: '/v1/secret/', latencyMs: Number(latency) });
  process.stdout.write(`${JSON.stringify({ url: vault.url })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void vault.close().then(() => process.exit(0)));
}

main().catch((e: unknown) => {
  console.error((e as Error).message);
  process.exit(1);
});
