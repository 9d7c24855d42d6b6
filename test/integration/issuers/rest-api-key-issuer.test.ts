import { RestApiKeyIssuer } from '../../../src/adapters/issuers/rest-api-key-issuer';
import type { RotatorError } from '../../../src/domain/errors';
import { Secret } from '../../../src/domain/secret';
import { failure } from '../../helpers/failure';
import { createProviderDouble, type ProviderDouble } from '../../../sandbox/provider';
import { eventually } from '../../helpers/eventually';

const ADMIN = 'admin-token-9f8e7d6c5b4a';
const FAST = { baseDelayMs: 1, maxDelayMs: 500 };

describe('RestApiKeyIssuer', () => {
  let provider: ProviderDouble;
  let issuer: RestApiKeyIssuer;
  const make = (over: { token?: string; timeoutMs?: number; attempts?: number } = {}) =>
    new RestApiKeyIssuer({
      baseUrl: provider.url,
      adminToken: new Secret(over.token ?? ADMIN),
      permissions: ['read', 'write'],
      timeoutMs: over.timeoutMs ?? 2000,
      retry: { ...FAST, attempts: over.attempts ?? 4 },
    });

  beforeEach(async () => {
    provider = await createProviderDouble({ adminToken: ADMIN });
    issuer = make();
  });

  afterEach(async () => {
    await provider.close();
  });

  describe('when a key is created', () => {
    it('returns the id and the wrapped value, and the key is active and listed', async () => {
      const { keyId, value } = await issuer.create('rotator/payment-gateway-api/run-1');
      expect(keyId).toMatch(/^key_/);
      expect(value.reveal()).toMatch(/^pk_live_/);
      expect(String(value)).toBe('[redacted]');
      expect(provider.accepts(value.reveal())).toBe(true);
      expect(await issuer.status(keyId)).toBe('active');
      expect(await issuer.list()).toEqual([
        expect.objectContaining({ keyId, label: 'rotator/payment-gateway-api/run-1', status: 'active' }),
      ]);
    });
  });

  describe('when a key is revoked', () => {
    it('reports it revoked and a second revoke is fine', async () => {
      const { keyId } = await issuer.create('k');
      await issuer.revoke(keyId);
      expect(await issuer.status(keyId)).toBe('revoked');
      await expect(issuer.revoke(keyId)).resolves.toBeUndefined();
      await expect(issuer.revoke('key_never_existed')).resolves.toBeUndefined();
    });

    it('reports an unknown id as absent', async () => {
      expect(await issuer.status('key_unknown')).toBe('absent');
    });
  });

  describe('when a client uses a key', () => {
    it('reports the last use, and nothing before it', async () => {
      const { id } = provider.seedKey({ name: 'old', value: 'pk_live_old_value' });
      expect(await issuer.lastUsed(id)).toBeUndefined();
      const at = new Date('2024-11-15T14:30:00Z');
      expect(provider.use('pk_live_old_value', at)).toBe(true);
      expect(await issuer.lastUsed(id)).toEqual(at);
      expect((await issuer.list())[0]?.lastUsedAt).toBe(at.toISOString());
    });
  });

  describe('when the old key is tried after revocation', () => {
    it('is accepted before and rejected right after when revocation is immediate', async () => {
      const { keyId, value } = await issuer.create('k');
      expect(await issuer.accepts(value)).toBe(true);
      await issuer.revoke(keyId);
      expect(await issuer.accepts(value)).toBe(false);
    });

    it('is still accepted during the propagation delay, then rejected', async () => {
      provider.revocationDelayMs = 80;
      const { keyId, value } = await issuer.create('k');
      const revokedAt = Date.now();
      await issuer.revoke(keyId);
      expect(await issuer.accepts(value)).toBe(true);
      await eventually(async () => !(await issuer.accepts(value)));
      expect(Date.now() - revokedAt).toBeGreaterThanOrEqual(80);
    });
  });

  describe('when the provider rate-limits', () => {
    it('waits for the reset and retries', async () => {
      provider.rateLimit(1, 0.15);
      const started = Date.now();
      const { keyId } = await issuer.create('k');
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(provider.activeKeys().map((k) => k.id)).toEqual([keyId]);
    });

    it('gives up with a transient issuer_rate_limited after its attempts', async () => {
      provider.rateLimit(10, 0.01);
      const e = await failure(make({ attempts: 2 }).create('k'));
      expect(e.code).toBe('issuer_rate_limited');
      expect(e.transient).toBe(true);
      expect(provider.keys()).toHaveLength(0);
    });
  });

  describe('when the provider answers 500 once', () => {
    it('retries and succeeds', async () => {
      provider.faults.add({ method: 'GET', path: '/v1/api-keys', status: 500, times: 1 });
      const retried: number[] = [];
      const withCount = new RestApiKeyIssuer({
        baseUrl: provider.url,
        adminToken: new Secret(ADMIN),
        permissions: ['read'],
        retry: { ...FAST, onRetry: (_e, attempt) => retried.push(attempt) },
      });
      expect(await withCount.list()).toEqual([]);
      expect(retried).toEqual([1]);
    });
  });

  describe('when a call times out once', () => {
    it('retries and succeeds', async () => {
      provider.faults.add({ path: '/v1/api-keys', latencyMs: 200, times: 1 });
      provider.seedKey({ name: 'k', value: 'pk_live_x' });
      expect(await make({ timeoutMs: 50 }).list()).toHaveLength(1);
    });
  });

  describe('when the provider is down', () => {
    it('fails with a transient issuer_unavailable', async () => {
      provider.faults.add({ drop: true });
      const e = await failure(issuer.list());
      expect(e.code).toBe('issuer_unavailable');
      expect(e.transient).toBe(true);
      expect(e.message).toMatch(/GET \/v1\/api-keys .*after 4 attempt/);
    });
  });

  describe('when the admin token is wrong', () => {
    it('fails with issuer_rejected, not transient', async () => {
      const e = await failure(make({ token: 'wrong-token-1234' }).create('k'));
      expect(e.code).toBe('issuer_rejected');
      expect(e.transient).toBe(false);
      expect(e.message).toContain('401');
      expect(provider.keys()).toHaveLength(0);
    });
  });

  describe('when anything fails', () => {
    it('never puts the admin token or a key value in the error', async () => {
      const value = 'pk_live_secret_value_0123456789';
      provider.seedKey({ name: 'k', value });
      const errors: RotatorError[] = [];
      provider.faults.add({ path: '/v1/test', status: 503, body: { error: value } });
      errors.push(await failure(issuer.accepts(new Secret(value))));
      provider.faults.clear();
      provider.faults.add({ path: '/v1/test', status: 404, body: { error: `bad key ${value}` } });
      errors.push(await failure(issuer.accepts(new Secret(value))));
      provider.faults.clear();
      errors.push(await failure(make({ token: `${ADMIN}x` }).list()));
      provider.faults.add({ drop: true });
      errors.push(await failure(issuer.create('k')));
      provider.faults.clear();
      provider.faults.add({ method: 'POST', status: 400, body: { error: ADMIN } });
      errors.push(await failure(issuer.create('k')));

      expect(errors.map((e) => e.code)).toEqual([
        'issuer_unavailable',
        'issuer_rejected',
        'issuer_rejected',
        'issuer_unavailable',
        'issuer_rejected',
      ]);
      for (const e of errors) {
        const text = `${e.message} ${JSON.stringify(e.context)} ${String(e)} ${e.stack ?? ''}`;
        expect(text).not.toContain(ADMIN);
        expect(text).not.toContain(value);
      }
    });
  });
});
