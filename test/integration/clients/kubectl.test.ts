import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startWorld, type World } from '../../../sandbox/world';
import { requireClient, runClient, startClient, type ClientRun } from '../../helpers/clients';
import { REDIS_URL } from '../../helpers/redis';
import { eventually } from '../../helpers/eventually';

const SECRET = 'payment-gateway-secret';

interface Container {
  name: string;
  image?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string } } }>;
  envFrom?: Array<{ secretRef?: { name: string } }>;
}
interface Deployment {
  metadata: { namespace: string; name: string; labels?: Record<string, string>; resourceVersion: string };
  spec: { replicas: number; template: { spec: { containers: Container[] } } };
}

/**
 * kubectl 1.32, unchanged, against the sandbox's Kubernetes double (TLS, CA verified), with the
 * runbook's own commands; the kubeconfig's default namespace is payments, as the runbook assumes.
 */
describe('kubectl against the Kubernetes double', () => {
  let world: World;
  let dir: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(() => requireClient('kubectl', 'install kubectl 1.32 (https://kubernetes.io/docs/tasks/tools/)'));

  /** A fresh world; rollouts take `rolloutDelayMs` (short, unless a test watches one in progress). */
  async function open(rolloutDelayMs = 400): Promise<void> {
    dir = mkdtempSync(join(tmpdir(), 'kubectl-'));
    world = await startWorld({ dir, redisUrl: REDIS_URL, queuePrefix: 'kubectl-suite', rolloutDelayMs });
    // kubectl keeps its discovery cache under HOME: a private one per test.
    env = { ...process.env, KUBECONFIG: world.files.kubeconfig, HOME: dir, KUBECACHEDIR: join(dir, 'cache') };
  }
  async function close(): Promise<void> {
    await world.close();
    rmSync(dir, { recursive: true, force: true });
  }

  beforeEach(() => open());
  afterEach(() => close());

  const kubectl = (...args: string[]): Promise<ClientRun> => runClient('kubectl', args, { env });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await kubectl(...args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return r.stdout;
  };
  const deployment = async (name: string, ns = 'payments'): Promise<Deployment> =>
    JSON.parse(await ok('get', 'deployment', name, '-n', ns, '-o', 'json')) as Deployment;

  describe('get deployments -A -o json, filtered as the runbook filters it with jq', () => {
    it('finds the consumers that reference the secret by secretKeyRef and by envFrom', async () => {
      world.kubernetes.addDeployment({
        namespace: 'payments',
        name: 'legacy-worker',
        secretRefs: [{ secret: SECRET, via: 'envFrom' }],
      });
      // A chunk size below the number of deployments makes kubectl page with limit/continue.
      const list = JSON.parse(
        await ok('get', 'deployments', '--all-namespaces', '-o', 'json', '--chunk-size=2'),
      ) as {
        items: Deployment[];
      };
      // nine seeded (two consume the IAM key, one the OAuth secret, one the manual key) and legacy-worker
      expect(list.items).toHaveLength(10);
      const where = (d: Deployment) => `${d.metadata.namespace}\t${d.metadata.name}`;
      // .items[] | select(.spec.template.spec.containers[].env[]?.valueFrom.secretKeyRef.name == "$SECRET_NAME")
      const bySecretKeyRef = list.items.filter((d) =>
        d.spec.template.spec.containers.some((c) =>
          (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === SECRET),
        ),
      );
      // .items[] | select(.spec.template.spec.containers[].envFrom[]?.secretRef.name == "$SECRET_NAME")
      const byEnvFrom = list.items.filter((d) =>
        d.spec.template.spec.containers.some((c) =>
          (c.envFrom ?? []).some((e) => e.secretRef?.name === SECRET),
        ),
      );
      expect(bySecretKeyRef.map(where)).toEqual(['payments\tmobile-backend', 'payments\tweb-app']);
      expect(byEnvFrom.map(where)).toEqual(['payments\tlegacy-worker']);
    });

    it('selects by label and by field', async () => {
      expect((await ok('get', 'pods', '-l', 'app=web-app', '-o', 'name')).trim().split('\n')).toHaveLength(2);
      expect(await ok('get', 'deployments', '-A', '-l', 'app in (web-app,crm-sync)', '-o', 'name')).toBe(
        'deployment.apps/web-app\ndeployment.apps/crm-sync\n',
      );
      expect(
        await ok('get', 'deployments', '-A', '--field-selector', 'metadata.namespace=sales', '-o', 'name'),
      ).toBe('deployment.apps/crm-sync\n');
    });
  });

  describe('annotate externalsecret … force-sync=$(date +%s) --overwrite', () => {
    it('makes the operator read Vault with its own token and refresh the Secret', async () => {
      const seeded = world.vault.current('api-credentials/payment-gateway-api')!.data;
      world.vault.seed('api-credentials/payment-gateway-api', { ...seeded, api_key: 'pk_live_rotated' });
      const before = world.vault.auditLog.length;
      const now = String(Math.floor(Date.now() / 1000));
      expect(await ok('annotate', 'externalsecret', SECRET, `force-sync=${now}`, '--overwrite')).toBe(
        `externalsecret.external-secrets.io/${SECRET} annotated\n`,
      );
      await eventually(
        async () =>
          (await ok('get', 'secret', SECRET, '-o', 'jsonpath={.data.api_key}')) ===
          Buffer.from('pk_live_rotated').toString('base64'),
      );
      expect(await ok('get', 'externalsecret', SECRET, '-o', 'jsonpath={.status.conditions[0].reason}')).toBe(
        'SecretSynced',
      );
      const reads = world.vault.auditLog
        .slice(before)
        .filter(
          (e) =>
            e.type === 'response' && e.request.path === 'secret/data/api-credentials/payment-gateway-api',
        );
      expect(reads.map((e) => [e.request.operation, e.auth.display_name])).toEqual([
        ['read', 'token-external-secrets'],
      ]);
    });

    it('fails the sync, keeping the old data, when the latest version is deleted', async () => {
      const res = await fetch(`${world.vault.url}/v1/secret/data/api-credentials/payment-gateway-api`, {
        method: 'DELETE',
        headers: { 'X-Vault-Token': world.env.VAULT_TOKEN! },
      });
      expect(res.status).toBe(204);
      const old = await ok('get', 'secret', SECRET, '-o', 'jsonpath={.data.api_key}');
      await ok('annotate', 'externalsecret', SECRET, 'force-sync=1', '--overwrite');
      await eventually(
        async () =>
          (await ok('get', 'externalsecret', SECRET, '-o', 'jsonpath={.status.conditions[0].reason}')) ===
          'SecretSyncedError',
      );
      expect(await ok('get', 'secret', SECRET, '-o', 'jsonpath={.data.api_key}')).toBe(old);
    });

    it('fails the sync with SecretSyncedError when its token may not read, and Vault audits the refusal', async () => {
      world.vault.setTokenRules(world.externalSecretsToken, [
        { path: 'secret/data/other/*', capabilities: ['read'] },
      ]);
      await ok('annotate', 'externalsecret', SECRET, 'force-sync=2', '--overwrite');
      await eventually(
        async () =>
          (await ok(
            'get',
            'externalsecret',
            SECRET,
            '-o',
            'jsonpath={.status.conditions[0].status}/{.status.conditions[0].reason}',
          )) === 'False/SecretSyncedError',
      );
      const refused = world.vault.auditLog.find(
        (e) =>
          e.type === 'response' && e.auth.display_name === 'token-external-secrets' && e.error !== undefined,
      );
      expect(refused?.error).toContain('permission denied');
    });
  });

  describe('rollout restart and rollout status --timeout', () => {
    it('times out while the rollout runs, succeeds once it is done, and judges the deployment it names', async () => {
      await close();
      await open(2_500);
      expect(await ok('rollout', 'restart', 'deployment/web-app')).toBe(
        'deployment.apps/web-app restarted\n',
      );
      const rolling = await kubectl('rollout', 'status', 'deployment/web-app', '--timeout=1s');
      expect(rolling.code).toBe(1);
      expect(rolling.stderr).toContain('timed out waiting for the condition');
      // Another deployment is not rolling: its status is not web-app's.
      expect(await ok('rollout', 'status', 'deployment/mobile-backend', '--timeout=1s')).toBe(
        'deployment "mobile-backend" successfully rolled out\n',
      );
      const done = await kubectl('rollout', 'status', 'deployment/web-app', '--timeout=30s');
      expect(done.code).toBe(0);
      expect(done.stdout).toMatch(/deployment "web-app" successfully rolled out\n$/);
      // The new pods started with the Secret as it is now.
      expect(world.kubernetes.restarts('payments', 'web-app')).toBe(1);
    });

    it('reports a rollout that exceeded its progress deadline as failed', async () => {
      world.kubernetes.failNextRollout('payments', 'batch-processor');
      await ok('rollout', 'restart', 'deployment/batch-processor');
      const failed = await kubectl('rollout', 'status', 'deployment/batch-processor', '--timeout=30s');
      expect(failed.code).toBe(1);
      expect(failed.stderr).toContain('deployment "batch-processor" exceeded its progress deadline');
    });
  });

  describe('set env', () => {
    it('merges env by name, keeps the image and the secretKeyRef, stores no directive, and removes with NAME-', async () => {
      expect(
        await ok('set', 'env', 'deployment/web-app', 'WEBHOOK_SECRET_NEW=n', 'WEBHOOK_SECRET_OLD=o'),
      ).toBe('deployment.apps/web-app env updated\n');
      const after = await deployment('web-app');
      const [container] = after.spec.template.spec.containers;
      expect(container).toMatchObject({
        name: 'web-app',
        image: 'example/web-app:1',
        env: [
          {
            name: 'PAYMENT_GATEWAY_SECRET_API_KEY',
            valueFrom: { secretKeyRef: { name: SECRET, key: 'api_key' } },
          },
          { name: 'WEBHOOK_SECRET_NEW', value: 'n' },
          { name: 'WEBHOOK_SECRET_OLD', value: 'o' },
        ],
      });
      expect(JSON.stringify(after)).not.toContain('$setElementOrder');
      await ok('set', 'env', 'deployment/web-app', 'WEBHOOK_SECRET_OLD-');
      expect((await deployment('web-app')).spec.template.spec.containers[0]!.env!.map((e) => e.name)).toEqual(
        ['PAYMENT_GATEWAY_SECRET_API_KEY', 'WEBHOOK_SECRET_NEW'],
      );
    });
  });

  describe('logs deployment/batch-processor --tail', () => {
    it("shows the consumer's authentication lines, failures included", async () => {
      const started = await ok('logs', 'deployment/batch-processor', '--tail=50');
      expect(started).toContain('payment-gateway-api: authenticated with payment-provider.example.com');
      // The provider revokes the key; the application's next use of it fails and says so.
      world.provider.revocationDelayMs = 0;
      const id = world.seededKeyIds.get('payment-gateway-api')!;
      const revoke = await fetch(`${world.provider.url}/v1/api-keys/${id}`, {
        method: 'DELETE',
        headers: { Authorization: `Bearer ${world.env.PAYMENT_PROVIDER_ADMIN_TOKEN!}` },
      });
      expect(revoke.status).toBe(204);
      const health = world.catalog.credentials[0]!.consumers.find((c) => c.name === 'batch-processor')!
        .health!.url;
      expect((await fetch(health)).status).toBe(503);
      const last = await ok('logs', 'deployment/batch-processor', '--tail=1');
      expect(last).toBe(
        'level=error msg="payment-gateway-api: authentication failed: 401 Unauthorized from payment-provider.example.com"\n',
      );
      // | grep -i "payment"
      const lines = (await ok('logs', 'deployment/batch-processor', '--tail=50'))
        .split('\n')
        .filter((l) => /payment/i.test(l));
      expect(lines.some((l) => l.includes('authentication failed'))).toBe(true);
    });
  });

  describe('get -w', () => {
    it('streams the change of a deployment after the list, and ends at --request-timeout', async () => {
      const watch = startClient(
        'kubectl',
        ['get', 'deployments', '-w', '--output-watch-events', '--request-timeout=4s'],
        env,
      );
      await watch.until((out) => out.includes('ADDED') && out.includes('web-app'));
      await ok('rollout', 'restart', 'deployment/mobile-backend');
      await watch.until((out) => /MODIFIED\s+mobile-backend/.test(out));
      const end = await watch.exited;
      expect(end.code).toBe(0);
      const events = end.stdout
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/).slice(0, 2).join(' '));
      expect(events.slice(0, 3).sort()).toEqual([
        'ADDED batch-processor',
        'ADDED mobile-backend',
        'ADDED web-app',
      ]);
      expect(events.slice(3).every((e) => e === 'MODIFIED mobile-backend')).toBe(true);
    });
  });

  describe('patch', () => {
    it('applies a strategic merge patch by container name, keeping the env', async () => {
      await ok(
        'patch',
        'deployment',
        'web-app',
        '--type',
        'strategic',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"web-app","image":"example/web-app:2"}]}}}}',
      );
      const [c] = (await deployment('web-app')).spec.template.spec.containers;
      expect(c).toMatchObject({
        image: 'example/web-app:2',
        env: [{ name: 'PAYMENT_GATEWAY_SECRET_API_KEY' }],
      });
    });

    it('applies a JSON merge patch, which replaces a list whole', async () => {
      await ok(
        'patch',
        'deployment',
        'web-app',
        '--type',
        'merge',
        '-p',
        '{"metadata":{"labels":{"tier":"frontend"}}}',
      );
      expect((await deployment('web-app')).metadata.labels).toEqual({ app: 'web-app', tier: 'frontend' });
      await ok(
        'patch',
        'deployment',
        'web-app',
        '--type',
        'merge',
        '-p',
        '{"spec":{"template":{"spec":{"containers":[{"name":"web-app","image":"example/web-app:3"}]}}}}',
      );
      expect((await deployment('web-app')).spec.template.spec.containers).toEqual([
        { name: 'web-app', image: 'example/web-app:3' },
      ]);
    });

    it('applies a JSON patch, and the controller scales the pods', async () => {
      await ok(
        'patch',
        'deployment',
        'web-app',
        '--type',
        'json',
        '-p',
        '[{"op":"replace","path":"/spec/replicas","value":3}]',
      );
      expect((await deployment('web-app')).spec.replicas).toBe(3);
      await eventually(
        async () =>
          (await ok('get', 'pods', '-l', 'app=web-app', '-o', 'name')).trim().split('\n').length === 3,
        10_000,
      );
    });

    it('refuses a field of the wrong type with 422 Invalid', async () => {
      const r = await kubectl('patch', 'deployment', 'web-app', '-p', '{"spec":{"replicas":"two"}}');
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'The request is invalid: patch: Invalid value: "map[spec:map[replicas:two]]": unrecognized type: int32',
      );
      expect((await deployment('web-app')).spec.replicas).toBe(2);
    });

    it('refuses a stale resourceVersion with 409 Conflict', async () => {
      const stale = (await deployment('web-app')).metadata.resourceVersion;
      await ok('annotate', 'deployment', 'web-app', 'note=changed');
      const r = await kubectl(
        'patch',
        'deployment',
        'web-app',
        '--type',
        'merge',
        '-p',
        JSON.stringify({ metadata: { resourceVersion: stale }, spec: { replicas: 1 } }),
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'Error from server (Conflict): Operation cannot be fulfilled on deployments.apps "web-app": the object has been modified',
      );
    });
  });
});
