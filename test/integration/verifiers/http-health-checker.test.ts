import { HttpHealthChecker } from '../../../src/adapters/verifiers/http-health-checker';
import type { Consumer, HealthCheck } from '../../../src/domain/credential';
import { createAppsDouble, type AppsDouble } from '../../../sandbox/apps';
import { createProviderDouble, type ProviderDouble } from '../../../sandbox/provider';

const FAST = { baseDelayMs: 1, maxDelayMs: 20 };

describe('HttpHealthChecker', () => {
  let provider: ProviderDouble;
  let apps: AppsDouble;
  let keyId: string;
  const deployed = new Map<string, string>();
  const checker = new HttpHealthChecker({ timeoutMs: 2000, retry: FAST });

  const consumer = (
    name: string,
    expect: HealthCheck['expect'] = { field: 'payment_gateway', equals: 'connected' },
  ): Consumer => ({ name, reload: 'startup', health: { url: apps.healthUrl(name), expect } });

  beforeEach(async () => {
    provider = await createProviderDouble({ adminToken: 'admin' });
    keyId = provider.seedKey({ name: 'payment-gateway-api', value: 'pk_live_current' }).id;
    deployed.clear();
    deployed.set('web-app', 'pk_live_current');
    apps = await createAppsDouble({
      credentialOf: (name) => Promise.resolve(deployed.get(name)),
      check: (value) => Promise.resolve(provider.use(value)),
    });
  });

  afterEach(async () => {
    await apps.close();
    await provider.close();
  });

  describe('when the consumer holds an accepted key', () => {
    it('is healthy, and the provider records the use', async () => {
      const result = await checker.check(consumer('web-app'));
      expect(result).toEqual({
        consumer: 'web-app',
        ok: true,
        status: 200,
        detail: '200, payment_gateway=connected',
      });
      expect(provider.keys().find((k) => k.id === keyId)?.lastUsedAt).toBeDefined();
    });
  });

  describe('when the key the consumer holds has been revoked', () => {
    it('answers ok:false with the status and the field value, without throwing', async () => {
      const del = await fetch(`${provider.url}/v1/api-keys/${keyId}`, {
        method: 'DELETE',
        headers: { authorization: 'Bearer admin' },
      });
      expect(del.status).toBe(204);
      const result = await checker.check(consumer('web-app'));
      expect(result.ok).toBe(false);
      expect(result.status).toBe(503);
      expect(result.detail).toMatch(/^503, payment_gateway=disconnected, error=401 from provider/);
    });
  });

  describe('when the field does not have the expected value', () => {
    it('answers ok:false and says what it found', async () => {
      const result = await checker.check(consumer('web-app', { field: 'payment_gateway', equals: 'ready' }));
      expect(result).toMatchObject({ ok: false, status: 200 });
      expect(result.detail).toBe('200, payment_gateway=connected, expected ready');
    });

    it('reports a missing field as missing', async () => {
      const result = await checker.check(consumer('web-app', { field: 'crm', equals: 'connected' }));
      expect(result).toMatchObject({ ok: false, detail: '200, crm=missing, expected connected' });
    });
  });

  describe('when the app answers 5xx once', () => {
    it('retries and reports healthy', async () => {
      apps.faults.add({ path: '/health/web-app', status: 502, body: 'bad gateway', times: 1 });
      const result = await checker.check(consumer('web-app'));
      expect(result).toMatchObject({ ok: true, status: 200 });
    });
  });

  describe('when the app keeps answering 5xx', () => {
    it('gives up after its attempts with ok:false', async () => {
      apps.faults.add({ path: '/health/web-app', status: 500, body: { error: 'boom' } });
      const result = await checker.check(consumer('web-app'));
      expect(result).toMatchObject({ ok: false, status: 500 });
      expect(result.detail).toBe('500, payment_gateway=missing, error=boom (after 3 attempts)');
    });
  });

  describe('when the app cannot be reached', () => {
    it('answers ok:false without a status', async () => {
      apps.faults.add({ drop: true });
      const result = await checker.check(consumer('web-app'));
      expect(result).toEqual({ consumer: 'web-app', ok: false, detail: expect.stringMatching(/^no answer/) });
      expect(result.detail).toMatch(/after 3 attempts\)$/);
    });
  });

  describe('when the app is forced unhealthy', () => {
    it('answers ok:false', async () => {
      apps.forceUnhealthy('web-app', true);
      expect((await checker.check(consumer('web-app'))).ok).toBe(false);
      apps.forceUnhealthy('web-app', false);
      expect((await checker.check(consumer('web-app'))).ok).toBe(true);
    });
  });

  describe('when the consumer declares no health check', () => {
    it('answers ok:true and says so', async () => {
      const result = await checker.check({ name: 'batch-processor', reload: 'scheduled' });
      expect(result).toEqual({ consumer: 'batch-processor', ok: true, detail: 'no health check declared' });
    });
  });

  describe('when the app answer echoes a token-like string', () => {
    it('blanks it out of the detail', async () => {
      apps.faults.add({
        path: '/health/web-app',
        status: 401,
        body: { error: 'bad key pk_live_current_abcdefghijklmnop' },
      });
      const result = await checker.check(consumer('web-app'));
      expect(result.detail).not.toContain('pk_live_current');
      expect(result.detail).toContain('[redacted]');
    });
  });
});
