import type { ResolveRemoteRef } from './external-secrets';

export interface VaultProviderOptions {
  /** Vault's address, e.g. http://127.0.0.1:8200. */
  address: string;
  /** The operator's own token (a ClusterSecretStore's auth), not the bot's. */
  token: string;
  /** The KV v2 mount (the SecretStore's `path`); default "secret". */
  mount?: string;
}

/**
 * External Secrets' Vault provider for KV v2: reads `GET /v1/<mount>/data/<key>` over Vault's HTTP
 * API with its own token, so its reads land in Vault's audit log and Vault's ACLs apply to it. A key
 * may name the mount ("secret/api-credentials/x") or not ("api-credentials/x").
 */
export function vaultProvider(opts: VaultProviderOptions): ResolveRemoteRef {
  const mount = opts.mount ?? 'secret';
  return async (key, property) => {
    const path = key.startsWith(`${mount}/`) ? key.slice(mount.length + 1) : key;
    const res = await fetch(`${opts.address}/v1/${mount}/data/${path}`, {
      headers: { 'X-Vault-Token': opts.token, 'X-Vault-Request': 'true' },
      signal: AbortSignal.timeout(5_000),
    });
    const body = (await res.json().catch(() => ({}))) as {
      data?: { data?: Record<string, unknown> | null };
      errors?: string[];
    };
    if (res.status === 403) throw new Error(`cannot read secret data from Vault: permission denied`);
    if (res.status === 404 || !body.data?.data) throw new Error(`Secret does not exist`);
    if (!res.ok) throw new Error(`cannot read secret data from Vault: ${res.status}`);
    const value = body.data.data[property];
    if (value === undefined) throw new Error(`cannot find secret data for key: "${property}"`);
    return typeof value === 'string' ? value : JSON.stringify(value);
  };
}
