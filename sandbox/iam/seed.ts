import { createAppsDouble, type AppsDouble } from '../apps';
import type { KubernetesDouble } from '../kubernetes';
import type { VaultDouble } from '../vault/vault-double';
import type { IamDouble } from './iam-double';

/** The catalog entry of an IAM credential, as the sandbox reads it. */
export interface IamCatalogCredential {
  name: string;
  store: string;
  kubernetesSecret: string;
  contact?: unknown;
  issuer: {
    kind: 'aws_iam';
    name?: string;
    userName: string;
    accessKeyIdEnv: string;
    secretAccessKeyEnv: string;
  };
  consumers: Array<{
    name: string;
    reload: 'startup' | 'dynamic' | 'scheduled';
    kubernetes: { namespace: string; deployment: string; externalSecret: string };
    health?: { url: string; expect?: { field: string; equals: string } };
  }>;
}

export const isIamCredential = (c: { issuer: unknown }): c is IamCatalogCredential =>
  (c.issuer as { kind?: unknown }).kind === 'aws_iam';

/** The two keys consumers read: the Kubernetes Secret's AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. */
const ID_KEY = 'AWS_ACCESS_KEY_ID';
const SECRET_KEY = 'AWS_SECRET_ACCESS_KEY';

/**
 * Seeds one IAM credential: the user's key at the IAM double, the pair in Vault (access_key_id,
 * secret_access_key), an ExternalSecret mapping both into the consumers' Secret, the deployments,
 * and health endpoints that are healthy while AWS accepts the pair a consumer holds.
 */
export async function seedIamCredential(
  cred: IamCatalogCredential,
  w: { iam: IamDouble; vault: VaultDouble; kubernetes: KubernetesDouble; env: Record<string, string> },
  rotatedAt: string,
): Promise<{ app: AppsDouble; keyId: string }> {
  const { iam, vault, kubernetes } = w;
  w.env[cred.issuer.accessKeyIdEnv] = iam.admin.accessKeyId;
  w.env[cred.issuer.secretAccessKeyEnv] = iam.admin.secretAccessKey;
  const seeded = iam.seedKey(cred.issuer.userName, new Date(rotatedAt));
  vault.seed(
    cred.store,
    {
      access_key_id: seeded.accessKeyId,
      secret_access_key: seeded.secretAccessKey,
      previous_secret_access_key: '',
      rotated_at: rotatedAt,
      rotated_by: 'runbook',
      metadata: {
        issuer: cred.issuer.name ?? 'iam.amazonaws.com',
        consumers: cred.consumers.map((c) => c.name),
        rotation_contact: String(cred.contact ?? ''),
        last_rotated: rotatedAt,
      },
    },
    { createdTime: rotatedAt },
  );
  const secret = cred.kubernetesSecret;
  const held = (consumer: string): { id?: string; secret?: string } => {
    const c = cred.consumers.find((k) => k.name === consumer);
    if (!c) return {};
    const { namespace, deployment } = c.kubernetes;
    const read = (key: string) =>
      c.reload === 'startup'
        ? kubernetes.podValue(namespace, deployment, secret, key)
        : kubernetes.secret(namespace, secret)?.[key];
    return { id: read(ID_KEY), secret: read(SECRET_KEY) };
  };
  const field = cred.consumers.find((c) => c.health?.expect)?.health?.expect?.field ?? 'aws';
  const app = await createAppsDouble({
    field,
    // The pair travels as one string inside the double only; the check splits it again.
    credentialOf: async (consumer) => {
      const h = held(consumer);
      return h.id && h.secret ? `${h.id}\n${h.secret}` : undefined;
    },
    check: async (pair) => {
      const [id, value] = pair.split('\n');
      return iam.use(id ?? '', value ?? '');
    },
  });
  for (const ns of new Set(cred.consumers.map((c) => c.kubernetes.namespace))) {
    kubernetes.addSecret(ns, secret, { [ID_KEY]: seeded.accessKeyId, [SECRET_KEY]: seeded.secretAccessKey });
    kubernetes.addExternalSecret(ns, secret, {
      target: secret,
      data: [
        { secretKey: ID_KEY, remoteRef: { key: `secret/${cred.store}`, property: 'access_key_id' } },
        { secretKey: SECRET_KEY, remoteRef: { key: `secret/${cred.store}`, property: 'secret_access_key' } },
      ],
    });
  }
  for (const c of cred.consumers) {
    const via = c.reload === 'startup' ? 'env' : 'volume';
    kubernetes.addDeployment({
      namespace: c.kubernetes.namespace,
      name: c.kubernetes.deployment,
      replicas: 2,
      secretRefs: [
        { secret, key: ID_KEY, via },
        { secret, key: SECRET_KEY, via },
      ],
    });
    if (c.health) c.health.url = app.healthUrl(c.name);
  }
  return { app, keyId: seeded.accessKeyId };
}
