import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { createAppsDouble, type AppsDouble } from './apps';
import { createKubernetesDouble, type KubernetesDouble, type StartedPod } from './kubernetes';
import { vaultProvider } from './kubernetes/vault-provider';
import { credentialAuth, type CatalogIssuer, type CredentialAuth } from './credential-auth';
import { createIamDouble, type IamDouble } from './iam';
import { isIamCredential, seedIamCredential } from './iam/seed';
import { createOAuthDouble, type OAuthDouble } from './oauth';
import { createProviderDouble, type ProviderDouble } from './provider';
import { createSlackDouble, type SlackDouble } from './slack';
import { createVaultDouble, type VaultDouble } from './vault/vault-double';

/** One consumer as the sandbox deploys it (mirrors the catalog's consumers). */
export interface CatalogConsumer {
  name: string;
  cacheTtlSeconds?: number;
  /** Absent where the credential type defaults to restart-required (OAuth client secrets). */
  reload?: 'startup' | 'dynamic' | 'scheduled';
  kubernetes: { namespace: string; deployment: string; externalSecret: string };
  health?: { url: string; expect?: { field: string; equals: string } };
}
export interface CatalogCredential {
  name: string;
  store: string;
  kubernetesSecret: string;
  issuer: CatalogIssuer;
  consumers: CatalogConsumer[];
  [k: string]: unknown;
}
/**
 * A copy of `template` named `name`, with a store path and Secret of its own, and each consumer's
 * deployment and ExternalSecret (named after the copy) where `at` puts them. Deep: objects shared
 * between entries would be written as YAML aliases, which the catalog loader caps.
 */
export function copyCredential(
  template: CatalogCredential,
  name: string,
  at: (consumer: CatalogConsumer) => { namespace: string; deployment: string },
): CatalogCredential {
  return {
    ...structuredClone(template),
    name,
    store: `api-credentials/${name}`,
    kubernetesSecret: name,
    consumers: structuredClone(template.consumers).map((consumer) => ({
      ...consumer,
      kubernetes: { ...at(consumer), externalSecret: name },
    })),
  };
}

export interface CatalogFile {
  access: Record<string, string[]>;
  credentials: CatalogCredential[];
}

/** Last rotations as the runbook's inventory lists them: overdue under every policy. */
const SEEDED_ROTATION: Record<string, string> = {
  'payment-gateway-api': '2024-08-15T10:30:00Z',
  'crm-integration': '2024-09-22T14:15:00Z',
  'monitoring-service': '2024-07-01T09:00:00Z',
  'integration-service-account': '2024-06-03T08:00:00Z',
};

export interface World {
  dir: string;
  vault: VaultDouble;
  kubernetes: KubernetesDouble;
  provider: ProviderDouble;
  /** The identity provider's client-secret admin API and token endpoint (http_secret issuers). */
  oauth: OAuthDouble;
  /** AWS IAM (awsQuery, SigV4) for the catalog's aws_iam credentials. */
  iam: IamDouble;
  apps: Map<string, AppsDouble>;
  slack: SlackDouble;
  /** The bot's environment: everything config.ts needs to reach the doubles. */
  env: Record<string, string>;
  /** Files a person (or a test) drives the doubles with: kubectl's kubeconfig, its CA, Vault's audit log. */
  files: { kubeconfig: string; kubernetesCa: string; vaultAuditLog: string };
  /** The external-secrets operator's own Vault token (read-only on the credentials). */
  externalSecretsToken: string;
  catalog: CatalogFile;
  /** The key ids the store held when the world started, per credential. */
  seededKeyIds: Map<string, string>;
  /** The value a consumer's running pods hold (startup) or would read now (dynamic, scheduled). */
  consumerValue(credential: string, consumer: string): string | undefined;
  close(): Promise<void>;
}

export interface WorldOptions {
  dir: string;
  redisUrl: string;
  queuePrefix: string;
  catalogPath?: string;
  rolloutDelayMs?: number;
  ports?: Partial<Record<'vault' | 'kubernetes' | 'provider' | 'slack' | 'iam', number>>;
  userGroups?: Record<string, string[]>;
  /** Overrides the catalog's cache TTL of dynamic consumers (tests keep it short). */
  cacheTtlSeconds?: number;
  /** Edits the parsed catalog before the world is seeded from it (tests: limits, extra entries). */
  editCatalog?: (catalog: CatalogFile) => void;
}

const token = (prefix: string) => `${prefix}${randomBytes(12).toString('hex')}`;

/**
 * Starts every double, wired together like the real world (ExternalSecrets read Vault, consumers
 * authenticate at the provider), seeded with the catalog's credentials and consumers.
 */
export async function startWorld(opts: WorldOptions): Promise<World> {
  mkdirSync(opts.dir, { recursive: true });
  const vaultToken = token('hvs.');
  const kubeToken = token('kube-');
  const providerToken = token('admin_');
  const botToken = token('xoxb-sandbox-');
  const signingSecret = randomBytes(16).toString('hex');
  const catalog = parse(
    readFileSync(opts.catalogPath ?? join(__dirname, '..', 'credentials.yaml'), 'utf8'),
  ) as CatalogFile;
  opts.editCatalog?.(catalog);

  const externalSecretsToken = token('hvs.eso-');
  const vaultAuditLog = join(opts.dir, 'vault-audit.log');
  const vault = await createVaultDouble({
    token: vaultToken,
    auditFile: vaultAuditLog,
    // The operator's ClusterSecretStore token: it reads the credentials and nothing else.
    tokens: [
      {
        token: externalSecretsToken,
        displayName: 'token-external-secrets',
        policies: ['default', 'external-secrets'],
        rules: [
          { path: 'secret/data/api-credentials/*', capabilities: ['read'] },
          { path: 'secret/data/database-credentials/*', capabilities: ['read'] },
        ],
      },
    ],
    ...(opts.ports?.vault ? { port: opts.ports.vault } : {}),
  });
  const provider = await createProviderDouble({
    adminToken: providerToken,
    ...(opts.ports?.provider ? { port: opts.ports.provider } : {}),
  });
  const oauthToken = token('idp_admin_');
  const oauth = await createOAuthDouble({ adminToken: oauthToken });
  const kubernetes = await createKubernetesDouble({
    token: kubeToken,
    rolloutDelayMs: opts.rolloutDelayMs ?? 150,
    ...(opts.ports?.kubernetes ? { port: opts.ports.kubernetes } : {}),
    // The external-secrets operator's Vault provider: remoteRef key secret/<path>, property <field>.
    resolveRemoteRef: vaultProvider({ address: vault.url, token: externalSecretsToken }),
    podStarted: (pod) => startupLines(pod),
  });
  const iam = await createIamDouble(opts.ports?.iam ? { port: opts.ports.iam } : {});
  const slack = await createSlackDouble({
    botToken,
    ...(opts.ports?.slack ? { port: opts.ports.slack } : {}),
    userGroups: opts.userGroups ?? { S0SECURITY: ['U0DAVE'], S0ONCALL: ['U0ALICE', 'U0ERIN'] },
  });

  const consumers = new Map<string, { credential: CatalogCredential; consumer: CatalogConsumer }>();
  const byDeployment = new Map<string, CatalogCredential>();
  const auths = new Map<string, CredentialAuth>();
  /** What a consumer logs when it authenticates at its credential's provider (the runbook greps these). */
  const authLine = (cred: CatalogCredential, ok: boolean) =>
    ok
      ? `level=info msg="${cred.name}: authenticated with ${cred.issuer.name ?? 'provider'}"`
      : `level=error msg="${cred.name}: authentication failed: 401 Unauthorized from ${cred.issuer.name ?? 'provider'}"`;
  const startupLines = (pod: StartedPod): string[] => {
    const cred = byDeployment.get(`${pod.namespace}/${pod.deployment}`);
    const auth = cred ? auths.get(cred.name) : undefined;
    if (!cred || !auth?.accepts) return [];
    const value = pod.values[cred.kubernetesSecret]?.[auth.valueKey];
    return value !== undefined ? [authLine(cred, auth.accepts(value))] : [];
  };
  const consumerField = (credential: string, name: string, key?: string): string | undefined => {
    const entry = consumers.get(`${credential}/${name}`);
    if (!entry) return undefined;
    const { namespace, deployment } = entry.consumer.kubernetes;
    const secret = entry.credential.kubernetesSecret;
    const field = key ?? auths.get(credential)?.valueKey ?? 'api_key';
    return (entry.consumer.reload ?? 'startup') === 'startup'
      ? kubernetes.podValue(namespace, deployment, secret, field)
      : kubernetes.secret(namespace, secret)?.[field];
  };
  const consumerValue = (credential: string, name: string) => consumerField(credential, name);

  const apps = new Map<string, AppsDouble>();
  const seededKeyIds = new Map<string, string>();
  const env: Record<string, string> = {};
  const drops: Array<() => Promise<void>> = [];
  for (const cred of catalog.credentials) {
    if (isIamCredential(cred)) {
      const rotatedAt = SEEDED_ROTATION[cred.name] ?? new Date().toISOString();
      const seeded = await seedIamCredential(cred, { iam, vault, kubernetes, env }, rotatedAt);
      apps.set(cred.name, seeded.app);
      seededKeyIds.set(cred.name, seeded.keyId);
      continue;
    }
    const held = (consumer: string, key: string) => consumerField(cred.name, consumer, key);
    const auth = credentialAuth(cred.issuer, { provider, providerToken, oauth, oauthToken, held }, env);
    auths.set(cred.name, auth);
    const field = cred.consumers.find((c) => c.health?.expect)?.health?.expect?.field ?? 'status';
    const app = await createAppsDouble({
      field,
      credentialOf: async (consumer) => consumerValue(cred.name, consumer),
      check: async (value, consumer) => {
        const ok = await auth.use(value, consumer);
        const where = consumers.get(`${cred.name}/${consumer}`)?.consumer.kubernetes;
        if (where) kubernetes.appendLog(where.namespace, where.deployment, authLine(cred, ok));
        return ok;
      },
    });
    apps.set(cred.name, app);
    const { stored, keyId } = await auth.seed(
      cred.issuer.keyName ?? cred.name,
      new Date(SEEDED_ROTATION[cred.name] ?? Date.now()),
    );
    if (auth.drop) drops.push(auth.drop);
    seededKeyIds.set(cred.name, keyId);
    const rotatedAt = SEEDED_ROTATION[cred.name] ?? new Date().toISOString();
    vault.seed(
      cred.store,
      {
        ...stored,
        rotated_at: rotatedAt,
        rotated_by: 'runbook',
        metadata: {
          issuer: (cred.issuer as { name?: string }).name ?? '',
          consumers: cred.consumers.map((c) => c.name),
          rotation_contact: String(cred.contact ?? ''),
          last_rotated: rotatedAt,
        },
      },
      { createdTime: rotatedAt },
    );
    const namespaces = new Set(cred.consumers.map((c) => c.kubernetes.namespace));
    const fields = auth.secretFields;
    for (const ns of namespaces) {
      kubernetes.addSecret(
        ns,
        cred.kubernetesSecret,
        Object.fromEntries(fields.map((f) => [f.secretKey, stored[f.property]!])),
      );
      kubernetes.addExternalSecret(ns, cred.kubernetesSecret, {
        target: cred.kubernetesSecret,
        data: fields.map((f) => ({
          secretKey: f.secretKey,
          remoteRef: { key: `secret/${cred.store}`, property: f.property },
        })),
      });
    }
    for (const c of cred.consumers) {
      if (c.reload === 'dynamic' && opts.cacheTtlSeconds !== undefined)
        c.cacheTtlSeconds = opts.cacheTtlSeconds;
      consumers.set(`${cred.name}/${c.name}`, { credential: cred, consumer: c });
      byDeployment.set(`${c.kubernetes.namespace}/${c.kubernetes.deployment}`, cred);
      kubernetes.addDeployment({
        namespace: c.kubernetes.namespace,
        name: c.kubernetes.deployment,
        replicas: 2,
        // Startup consumers take the key as an env var; the others mount the secret and re-read it.
        secretRefs: [
          {
            secret: cred.kubernetesSecret,
            key: auth.valueKey,
            via: (c.reload ?? 'startup') === 'startup' ? 'env' : 'volume',
          },
        ],
      });
      if (c.health) c.health.url = app.healthUrl(c.name);
    }
  }

  const catalogPath = join(opts.dir, 'credentials.yaml');
  writeFileSync(catalogPath, stringify(catalog));
  // The runbook's kubectl commands name no namespace: the context defaults to the first consumer's.
  const kubeconfigPath = join(opts.dir, 'kubeconfig');
  const namespace = catalog.credentials[0]?.consumers[0]?.kubernetes.namespace;
  writeFileSync(kubeconfigPath, kubernetes.kubeconfig(namespace), { mode: 0o600 });
  const caPath = join(opts.dir, 'kubernetes-ca.crt');
  writeFileSync(caPath, kubernetes.caPem);

  Object.assign(env, {
    SLACK_SIGNING_SECRET: signingSecret,
    SLACK_BOT_TOKEN: botToken,
    SLACK_API_URL: slack.url,
    REDIS_URL: opts.redisUrl,
    QUEUE_PREFIX: opts.queuePrefix,
    VAULT_ADDR: vault.url,
    VAULT_TOKEN: vaultToken,
    KUBECONFIG: kubeconfigPath,
    CATALOG_PATH: catalogPath,
    SECURITY_CHANNEL: 'C_SECURITY',
    AWS_ENDPOINT_URL_IAM: iam.url,
    AWS_REGION: 'us-east-1',
    // The sandbox's Redis is a scratch one; the bot warns loudly instead of refusing.
    ALLOW_EPHEMERAL_REDIS: 'true',
  });

  return {
    dir: opts.dir,
    vault,
    kubernetes,
    provider,
    oauth,
    iam,
    apps,
    slack,
    env,
    files: { kubeconfig: kubeconfigPath, kubernetesCa: caPath, vaultAuditLog },
    externalSecretsToken,
    catalog,
    seededKeyIds,
    consumerValue,
    close: async () => {
      await Promise.all([
        vault.close(),
        kubernetes.close(),
        provider.close(),
        oauth.close(),
        iam.close(),
        slack.close(),
        ...[...apps.values()].map((a) => a.close()),
      ]);
      for (const drop of drops) await drop();
    },
  };
}
