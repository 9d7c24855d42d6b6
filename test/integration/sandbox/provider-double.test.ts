import { createProviderDouble, type ProviderDouble } from '../../../sandbox/provider';

const ADMIN = 'admin-token-for-tests';

describe('provider double', () => {
  let provider: ProviderDouble;

  beforeEach(async () => {
    provider = await createProviderDouble({ adminToken: ADMIN });
  });

  afterEach(async () => {
    await provider.close();
  });

  const admin = { authorization: `Bearer ${ADMIN}` };
  const createKey = (init: RequestInit = {}) =>
    fetch(`${provider.url}/v1/api-keys`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'production-integration', permissions: ['read', 'write'] }),
      ...init,
    });

  describe('when a management call has no admin token', () => {
    it('answers 401 unauthorized', async () => {
      const res = await fetch(`${provider.url}/v1/api-keys`);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ error: 'unauthorized' });
    });

    it('answers 401 for a wrong token too', async () => {
      const res = await fetch(`${provider.url}/v1/api-keys`, { headers: { authorization: 'Bearer nope' } });
      expect(res.status).toBe(401);
      await res.body?.cancel();
    });
  });

  describe('when a key is created', () => {
    it('answers 201 with the runbook shape and a pk_live_ value', async () => {
      const res = await createKey();
      expect(res.status).toBe(201);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({
        name: 'production-integration',
        permissions: ['read', 'write'],
        status: 'active',
      });
      expect(body.id).toMatch(/^key_[0-9a-f]+$/);
      expect(body.api_key).toMatch(/^pk_live_[0-9a-f]{40}$/);
      expect(Number.isNaN(Date.parse(String(body.created)))).toBe(false);
    });

    it('refuses a body that is not application/json with 415', async () => {
      const res = await createKey({ headers: { ...admin, 'content-type': 'text/plain' } });
      expect(res.status).toBe(415);
      await res.body?.cancel();
    });

    it.each([
      ['the name is missing', { permissions: ['read'] }],
      ['permissions are not a string array', { name: 'x', permissions: 'read' }],
      ['permissions hold a number', { name: 'x', permissions: ['read', 1] }],
    ])('refuses with 400 when %s', async (_what, payload) => {
      const res = await createKey({ body: JSON.stringify(payload) });
      expect(res.status).toBe(400);
      await res.body?.cancel();
      expect(provider.keys()).toHaveLength(0);
    });
  });

  describe('when keys are listed', () => {
    it('never includes a key value', async () => {
      provider.seedKey({ name: 'seeded', value: 'pk_live_seededvalue' });
      const created = (await (await createKey()).json()) as { api_key: string };
      const res = await fetch(`${provider.url}/v1/api-keys`, { headers: admin });
      const text = await res.text();
      expect(res.status).toBe(200);
      expect((JSON.parse(text) as { keys: unknown[] }).keys).toHaveLength(2);
      expect(text).not.toContain(created.api_key);
      expect(text).not.toContain('pk_live_seededvalue');
      expect(text).not.toContain('api_key"');
    });
  });

  describe('when a revoked key is used', () => {
    it('answers 401 invalid_api_key on /v1/test and a second DELETE is 404', async () => {
      const { id } = provider.seedKey({ name: 'old', value: 'pk_live_old' });
      const ok = await fetch(`${provider.url}/v1/test`, { headers: { authorization: 'Bearer pk_live_old' } });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toEqual({ status: 'ok' });

      const del = await fetch(`${provider.url}/v1/api-keys/${id}`, { method: 'DELETE', headers: admin });
      expect(del.status).toBe(204);
      const again = await fetch(`${provider.url}/v1/api-keys/${id}`, { method: 'DELETE', headers: admin });
      expect(again.status).toBe(404);
      expect(await again.json()).toEqual({ error: 'not_found' });

      const rejected = await fetch(`${provider.url}/v1/test`, {
        headers: { authorization: 'Bearer pk_live_old' },
      });
      expect(rejected.status).toBe(401);
      expect(await rejected.json()).toEqual({ error: 'invalid_api_key' });
      expect(provider.keys()[0]).toMatchObject({ id, status: 'revoked' });
    });
  });

  describe('when an unknown consumer uses a key', () => {
    it('shows in the audit log with its address', async () => {
      const { id } = provider.seedKey({ name: 'k', value: 'pk_live_k' });
      const use = await fetch(`${provider.url}/_use`, {
        method: 'POST',
        body: JSON.stringify({ value: 'pk_live_k' }),
      });
      expect(await use.json()).toEqual({ accepted: true });
      const res = await fetch(`${provider.url}/v1/audit-log?api_key_id=${id}&since=2024-01-01T00:00:00Z`, {
        headers: admin,
      });
      const { entries } = (await res.json()) as { entries: Array<Record<string, unknown>> };
      expect(entries).toEqual([
        expect.objectContaining({ api_key_id: id, remote_address: '198.51.100.23', outcome: 'ok' }),
      ]);
    });
  });

  describe('when rate limits are switched on', () => {
    it('answers 429 with Retry-After and X-RateLimit-Reset for the next n calls only', async () => {
      provider.rateLimit(1, 2);
      const limited = await fetch(`${provider.url}/v1/api-keys`, { headers: admin });
      expect(limited.status).toBe(429);
      expect(limited.headers.get('retry-after')).toBe('2');
      expect(Number(limited.headers.get('x-ratelimit-reset'))).toBeGreaterThan(Date.now() / 1000);
      await limited.body?.cancel();
      const next = await fetch(`${provider.url}/v1/api-keys`, { headers: admin });
      expect(next.status).toBe(200);
      await next.body?.cancel();
    });
  });
});
