import type { VaultOperation } from './audit';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

/** One path stanza of a Vault policy: `path "secret/data/api-credentials/*" { capabilities = ["read"] }`. */
export interface PolicyRule {
  path: string;
  capabilities: Capability[];
}

export interface VaultTokenDef {
  token: string;
  /** As Vault shows it in audit entries and lookup-self, e.g. "token-external-secrets". */
  displayName: string;
  policies: string[];
  /** What the token's policies allow; absent = everything (a root-like token). */
  rules?: PolicyRule[];
}

/** Vault's ACL path matching: a trailing `*` is a prefix, `+` one path segment; the longest match wins. */
function matches(rule: string, path: string): boolean {
  const glob = rule.endsWith('*');
  const body = glob ? rule.slice(0, -1) : rule;
  const re = body
    .split('+')
    .map((part) => part.replace(/[.*?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${re}${glob ? '' : '$'}`).test(path);
}

/** The token store: who each token is and what its policies let it do. */
export class Tokens {
  private readonly byToken = new Map<string, VaultTokenDef>();

  constructor(defs: VaultTokenDef[]) {
    for (const d of defs) this.byToken.set(d.token, { ...d });
  }

  lookup(token: string): VaultTokenDef | undefined {
    return token === '' ? undefined : this.byToken.get(token);
  }

  setRules(token: string, rules: PolicyRule[] | undefined): void {
    const def = this.byToken.get(token);
    if (!def) throw new Error('no such token in the Vault double');
    if (rules === undefined) delete def.rules;
    else def.rules = rules;
  }

  /** Whether the token may perform `operation` on `path` (the logical path, without /v1/). */
  allowed(def: VaultTokenDef, path: string, operation: VaultOperation): boolean {
    if (!def.rules) return true;
    const candidates = def.rules.filter((r) => matches(r.path, path));
    if (candidates.length === 0) return false;
    const best = candidates.reduce((a, b) =>
      b.path.replace('*', '').length > a.path.replace('*', '').length ? b : a,
    );
    return !best.capabilities.includes('deny') && best.capabilities.includes(operation);
  }

  /** sys/internal/ui/mounts' hasMountAccess: any capability below the mount. */
  canSeeMount(def: VaultTokenDef, mountPath: string): boolean {
    return (
      !def.rules || def.rules.some((r) => r.path.startsWith(mountPath) && !r.capabilities.includes('deny'))
    );
  }
}
