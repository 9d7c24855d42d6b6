import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kubeConfigFrom } from '../../../src/adapters/deployers/kubeconfig';
import { ConsumerHealth } from '../../../src/adapters/verifiers/consumer-health';
import { PodLogChecker } from '../../../src/adapters/verifiers/pod-log-checker';
import type { Consumer } from '../../../src/domain/credential';
import type { HealthChecker } from '../../../src/domain/ports';
import { createKubernetesDouble, type KubernetesDouble } from '../../../sandbox/kubernetes';

const NS = 'payments';
const batch: Consumer = {
  name: 'batch-processor',
  reload: 'scheduled',
  kubernetes: { namespace: NS, deployment: 'batch-processor' },
  health: {
    url: 'http://127.0.0.1:1/health',
    logs: { errorPattern: 'authentication failed|unauthorized', tailLines: 50 },
  },
};

describe('PodLogChecker against the Kubernetes double', () => {
  let k8s: KubernetesDouble;
  let dir: string;
  let checker: PodLogChecker;

  beforeEach(async () => {
    k8s = await createKubernetesDouble({ token: 'sa-token', rolloutDelayMs: 20 });
    k8s.addSecret(NS, 'payment-gateway-secret', { api_key: 'value' });
    k8s.addDeployment({
      namespace: NS,
      name: 'batch-processor',
      replicas: 2,
      secretRefs: [{ secret: 'payment-gateway-secret', via: 'volume' }],
    });
    dir = await mkdtemp(join(tmpdir(), 'kubeconfig-'));
    await writeFile(join(dir, 'config'), k8s.kubeconfig());
    checker = new PodLogChecker(kubeConfigFrom({ kubeconfigPath: join(dir, 'config') }), {
      timeoutMs: 2_000,
    });
  });

  afterEach(async () => {
    await k8s.close();
    await rm(dir, { recursive: true, force: true });
  });

  describe('when the pods log only successful authentications', () => {
    it('answers healthy, naming how much it read', async () => {
      k8s.appendLog(NS, 'batch-processor', 'level=info msg="payment-gateway-api: authenticated"');
      expect(await checker.check(batch)).toEqual({
        consumer: 'batch-processor',
        ok: true,
        detail: 'logs: no authentication errors (2 pods, last 50 lines)',
      });
    });
  });

  describe('when a pod logged an authentication failure after the deploy began', () => {
    it('answers unhealthy with the pod and the line, token-like text blanked out', async () => {
      const since = new Date(Date.now() - 1_000);
      k8s.appendLog(
        NS,
        'batch-processor',
        'level=error msg="payment-gateway-api: authentication failed: 401 Unauthorized" key=pk_live_0123456789abcdef0123456789',
      );
      const result = await checker.check(batch, { since });
      expect(result.ok).toBe(false);
      expect(result.detail).toMatch(
        /^logs: 2 authentication errors \(2 pods, last 50 lines\), e\.g\. batch-processor-\S+: level=error msg="payment-gateway-api: authentication failed: 401 Unauthorized" \[redacted\]$/,
      );
      expect(result.detail).not.toContain('pk_live_0123456789abcdef0123456789');
    });
  });

  describe('when the failures are older than the deploy', () => {
    it('does not count them', async () => {
      k8s.appendLog(NS, 'batch-processor', 'level=error msg="authentication failed"');
      await new Promise((r) => setTimeout(r, 20));
      const since = new Date();
      k8s.appendLog(NS, 'batch-processor', 'level=info msg="authenticated"');
      expect(await checker.check(batch, { since })).toMatchObject({ ok: true });
    });
  });

  describe('when no pod of the deployment runs', () => {
    it('answers unhealthy instead of finding nothing wrong', async () => {
      k8s.addDeployment({
        namespace: NS,
        name: 'waiting',
        secretRefs: [{ secret: 'not-there-yet', via: 'env' }],
      });
      const waiting: Consumer = {
        ...batch,
        name: 'waiting',
        kubernetes: { namespace: NS, deployment: 'waiting' },
      };
      expect(await checker.check(waiting)).toEqual({
        consumer: 'waiting',
        ok: false,
        detail: 'no running pods of waiting',
      });
    });
  });

  describe('when the deployment does not exist', () => {
    it('answers unhealthy with the status code, never throws', async () => {
      const ghost: Consumer = { ...batch, name: 'ghost', kubernetes: { namespace: NS, deployment: 'ghost' } };
      expect(await checker.check(ghost)).toEqual({
        consumer: 'ghost',
        ok: false,
        detail: 'logs of ghost unreadable (HTTP 404)',
      });
    });
  });

  describe('when the consumer declares no log check', () => {
    it('has nothing to say against it', async () => {
      const plain: Consumer = { ...batch, health: { url: 'http://127.0.0.1:1/health' } };
      expect(await checker.check(plain)).toMatchObject({ ok: true, detail: 'no log check declared' });
    });
  });

  describe('ConsumerHealth', () => {
    const http = (ok: boolean): HealthChecker => ({
      check: (c) =>
        Promise.resolve({ consumer: c.name, ok, status: ok ? 200 : 503, detail: ok ? '200' : '503' }),
    });

    it('is healthy only when the HTTP check and the logs are', async () => {
      k8s.appendLog(NS, 'batch-processor', 'level=error msg="authentication failed"');
      expect(await new ConsumerHealth(http(true), checker).check(batch)).toMatchObject({
        ok: false,
        status: 200,
        detail: expect.stringMatching(/^200; logs: 2 authentication errors/),
      });
      const plain: Consumer = { ...batch, health: { url: 'http://127.0.0.1:1/health' } };
      expect(await new ConsumerHealth(http(false), checker).check(plain)).toEqual({
        consumer: 'batch-processor',
        ok: false,
        status: 503,
        detail: '503',
      });
    });
  });
});
