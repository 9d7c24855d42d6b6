import { consumerDrift } from '../domain/consumer-drift';
import type { CredentialSpec } from '../domain/credential';
import type { DriftFinding, InventoryRow } from '../domain/inventory';
import type { DiscoveredConsumer } from '../domain/ports';

/** Vault-only and catalog-only findings, read off the inventory's rows. */
export function storeDrift(rows: InventoryRow[]): DriftFinding[] {
  const out: DriftFinding[] = [];
  for (const r of rows) {
    if (!r.inCatalog && r.inVault) out.push({ kind: 'vault-only', path: r.path });
    else if (r.inCatalog && r.status === 'never-rotated')
      out.push({ kind: 'catalog-only', name: r.name, path: r.path });
  }
  return out;
}

/**
 * The catalog's dependency map against the deployments that reference the credential's Secret:
 * declared consumers the cluster does not show, and deployments nobody declared ("stale
 * dependency maps cause rotation failures").
 */
export function clusterDrift(spec: CredentialSpec, discovered: DiscoveredConsumer[]): DriftFinding[] {
  const drift = consumerDrift(spec, discovered);
  const byName = new Map(spec.consumers.map((c) => [c.name, c]));
  return [
    ...drift.missing.map((consumer): DriftFinding => {
      const k = byName.get(consumer)?.kubernetes;
      return {
        kind: 'missing-consumer',
        name: spec.name,
        consumer,
        where: k ? `${k.namespace}/${k.deployment}` : '',
      };
    }),
    ...drift.undeclared.map((where): DriftFinding => ({
      kind: 'undeclared-consumer',
      name: spec.name,
      where,
    })),
  ];
}

/** The credential a finding is about (a Vault-only path's last segment). */
export const findingCredential = (f: DriftFinding): string =>
  f.kind === 'vault-only' ? f.path.slice(f.path.lastIndexOf('/') + 1) : f.name;

/** One line per finding, e.g. "payments/cron-job uses payment-gateway-secret but is not declared". */
export function describeFinding(f: DriftFinding, secretOf?: (name: string) => string | undefined): string {
  switch (f.kind) {
    case 'vault-only':
      return `secret/${f.path} is in Vault but not in the catalog: nobody rotates it`;
    case 'catalog-only':
      return `${f.name} is in the catalog but secret/${f.path} is not in Vault: its rotation would fail at store`;
    case 'missing-consumer':
      return `${f.name}: declared consumer ${f.consumer}${f.where ? ` (${f.where})` : ''} does not reference the secret in the cluster`;
    case 'undeclared-consumer': {
      const secret = secretOf?.(f.name);
      return `${f.name}: ${f.where} uses ${secret ? `secret ${secret}` : 'its secret'} but is not declared: it would lose access at revocation`;
    }
  }
}
