import { createVaultDouble, type VaultDouble } from '../../../sandbox/vault/vault-double';

const TOKEN = 'double-test-token';
const API_KEY = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
const OLD_KEY = 'sk_live_oldoldoldoldoldoldoldold';
const PATH = 'api-credentials/payment-gateway-api';

let vault: VaultDouble;

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string; token?: string | null; contentType?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {};
  if (opts.token !== null) headers['X-Vault-Token'] = opts.token ?? TOKEN;
  const text = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  if (text !== undefined) headers['Content-Type'] = opts.contentType ?? 'application/json';
  const res = await fetch(`${vault.url}${path}`, { method, headers, body: text });
  const raw = await res.text();
  return { status: res.status, body: raw === '' ? undefined : (JSON.parse(raw) as unknown) };
}

beforeEach(async () => {
  vault = await createVaultDouble({ token: TOKEN });
  vault.seed(PATH, {
    api_key: OLD_KEY,
    previous_key: '',
    metadata: { issuer: 'payment-provider.example.com' },
  });
});

afterEach(async () => {
  await vault.close();
});

describe('when a secret is read', () => {
  it("answers Vault's envelope with the data and version metadata", async () => {
    const res = await call('GET', `/v1/secret/data/${PATH}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      request_id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: {
        data: { api_key: OLD_KEY, previous_key: '', metadata: { issuer: 'payment-provider.example.com' } },
        metadata: {
          created_time: expect.any(String),
          custom_metadata: null,
          deletion_time: '',
          destroyed: false,
          version: 1,
        },
      },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'kv',
    });
  });
});

describe('when the key does not exist', () => {
  it('answers 404 with an empty errors list', async () => {
    const res = await call('GET', '/v1/secret/data/api-credentials/nope');
    expect(res).toEqual({ status: 404, body: { errors: [] } });
  });
});

describe('when the token is wrong or missing', () => {
  it('refuses with 403 permission denied', async () => {
    await expect(call('GET', `/v1/secret/data/${PATH}`, { token: 'wrong' })).resolves.toEqual({
      status: 403,
      body: { errors: ['permission denied'] },
    });
    await expect(call('GET', `/v1/secret/data/${PATH}`, { token: null })).resolves.toEqual({
      status: 403,
      body: { errors: ['permission denied'] },
    });
  });
});

describe('when a write carries no data', () => {
  it("refuses with 400 and Vault's message", async () => {
    const res = await call('POST', `/v1/secret/data/${PATH}`, { body: { options: { cas: 1 } } });
    expect(res).toEqual({ status: 400, body: { errors: ['no data provided'] } });
    expect(vault.versions(PATH)).toBe(1);
  });
});

describe('when the body is not JSON', () => {
  it('refuses with 400', async () => {
    const res = await call('POST', `/v1/secret/data/${PATH}`, { raw: '{"data": {' });
    expect(res).toEqual({ status: 400, body: { errors: ['error parsing JSON'] } });
  });
});

describe('when the cas does not match', () => {
  it("refuses with 400 and Vault's message", async () => {
    const res = await call('POST', `/v1/secret/data/${PATH}`, {
      body: { options: { cas: 0 }, data: { api_key: API_KEY } },
    });
    expect(res).toEqual({
      status: 400,
      body: { errors: ['check-and-set parameter did not match the current version'] },
    });
    expect(vault.current(PATH)?.data['api_key']).toBe(OLD_KEY);
  });
});

describe('when the cas matches', () => {
  it('writes a new version and answers its metadata', async () => {
    const res = await call('PUT', `/v1/secret/data/${PATH}`, {
      body: { options: { cas: 1 }, data: { api_key: API_KEY, previous_key: OLD_KEY } },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data: { version: 2, deletion_time: '', destroyed: false, custom_metadata: null },
      mount_type: 'kv',
    });
    expect(vault.current(PATH)).toMatchObject({
      version: 2,
      data: { api_key: API_KEY, previous_key: OLD_KEY },
    });
  });
});

describe('when PATCH is sent as application/json', () => {
  it("refuses with 415 and Vault's message", async () => {
    const res = await call('PATCH', `/v1/secret/data/${PATH}`, { body: { data: { previous_key: '' } } });
    expect(res).toEqual({
      status: 415,
      body: {
        errors: ['PATCH requires Content-Type of application/merge-patch+json, provided application/json'],
      },
    });
  });
});

describe('when PATCH is a merge patch', () => {
  const merge = { contentType: 'application/merge-patch+json' };

  it('merges into the current version, null removing a key', async () => {
    const res = await call('PATCH', `/v1/secret/data/${PATH}`, {
      ...merge,
      body: {
        options: { cas: 1 },
        data: { previous_key: null, metadata: { last_rotated: '2024-08-15T10:30:00Z' } },
      },
    });
    expect(res.status).toBe(200);
    expect(vault.current(PATH)).toMatchObject({
      version: 2,
      data: {
        api_key: OLD_KEY,
        metadata: { issuer: 'payment-provider.example.com', last_rotated: '2024-08-15T10:30:00Z' },
      },
    });
    expect(vault.current(PATH)?.data).not.toHaveProperty('previous_key');
  });

  it('answers 404 for a key that does not exist', async () => {
    const res = await call('PATCH', '/v1/secret/data/api-credentials/nope', {
      ...merge,
      body: { data: { a: 'b' } },
    });
    expect(res).toEqual({ status: 404, body: { errors: [] } });
  });

  it('refuses a stale cas', async () => {
    const res = await call('PATCH', `/v1/secret/data/${PATH}`, {
      ...merge,
      body: { options: { cas: 7 }, data: {} },
    });
    expect(res.status).toBe(400);
    expect(vault.versions(PATH)).toBe(1);
  });
});

describe('when a folder is listed', () => {
  it('answers names and sub-folders, with GET ?list=true or ?list=1', async () => {
    vault.seed('api-credentials/crm-integration', { api_key: 'x' });
    vault.seed('api-credentials/team/inner', { api_key: 'y' });
    for (const q of ['list=true', 'list=1']) {
      const res = await call('GET', `/v1/secret/metadata/api-credentials?${q}`);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        data: { keys: ['crm-integration', 'payment-gateway-api', 'team/'] },
        mount_type: 'kv',
      });
    }
  });

  it('answers 404 with an empty errors list when nothing is there', async () => {
    const res = await call('GET', '/v1/secret/metadata/webhooks/?list=1');
    expect(res).toEqual({ status: 404, body: { errors: [] } });
  });
});

describe('when metadata is read', () => {
  it("answers KV v2's metadata fields", async () => {
    vault.seed(PATH, { api_key: API_KEY });
    const res = await call('GET', `/v1/secret/metadata/${PATH}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      data: {
        cas_required: false,
        current_version: 2,
        oldest_version: 0,
        max_versions: 0,
        delete_version_after: '0s',
        custom_metadata: null,
        created_time: expect.any(String),
        updated_time: expect.any(String),
        versions: {
          '1': { created_time: expect.any(String), deletion_time: '', destroyed: false },
          '2': { created_time: expect.any(String), deletion_time: '', destroyed: false },
        },
      },
    });
  });
});

describe('when the token looks itself up', () => {
  it("answers the token's envelope; sys/health needs no token", async () => {
    await expect(call('GET', '/v1/auth/token/lookup-self')).resolves.toMatchObject({
      status: 200,
      body: { data: { display_name: 'token', policies: ['default'], type: 'service' }, mount_type: 'token' },
    });
    await expect(call('GET', '/v1/sys/health', { token: null })).resolves.toMatchObject({
      status: 200,
      body: { initialized: true, sealed: false, standby: false },
    });
  });
});

describe('when a path outside the KV mount is requested', () => {
  it("answers 404 with Vault's routing error", async () => {
    const res = await call('GET', '/v1/kv/data/x');
    expect(res).toEqual({
      status: 404,
      body: { errors: ['no handler for route "kv/data/x". route entry not found.'] },
    });
  });
});

describe('when a fault is injected over /_faults', () => {
  it('answers with it, then recovers', async () => {
    await call('POST', '/_faults', {
      body: { path: '/v1/secret/', status: 503, body: { errors: ['Vault is sealed'] }, times: 1 },
    });
    await expect(call('GET', `/v1/secret/data/${PATH}`)).resolves.toMatchObject({ status: 503 });
    await expect(call('GET', `/v1/secret/data/${PATH}`)).resolves.toMatchObject({ status: 200 });
  });
});

describe('the audit device', () => {
  it('records each request and response with operation and path, and never a plaintext secret', async () => {
    await call('POST', '/v1/secret/data/api-credentials/new-one', {
      body: { options: { cas: 0 }, data: { api_key: API_KEY } },
    });
    await call('POST', `/v1/secret/data/${PATH}`, {
      body: { options: { cas: 1 }, data: { api_key: API_KEY, previous_key: OLD_KEY } },
    });
    await call('GET', `/v1/secret/data/${PATH}`);
    await call('GET', '/v1/secret/metadata/api-credentials/?list=1');
    await call('PATCH', `/v1/secret/data/${PATH}`, {
      contentType: 'application/merge-patch+json',
      body: { data: { previous_key: '' } },
    });

    const requests = vault.auditLog
      .filter((e) => e.type === 'request')
      .map((e) => [e.request.operation, e.request.path]);
    expect(requests).toEqual([
      ['create', 'secret/data/api-credentials/new-one'],
      ['update', `secret/data/${PATH}`],
      ['read', `secret/data/${PATH}`],
      ['list', 'secret/metadata/api-credentials/'],
      ['patch', `secret/data/${PATH}`],
    ]);
    expect(vault.auditLog).toHaveLength(10);
    const read = vault.auditLog.find((e) => e.type === 'response' && e.request.operation === 'read');
    expect(read).toMatchObject({
      auth: { display_name: 'token' },
      request: { id: expect.any(String), remote_address: '127.0.0.1' },
      response: { data: { data: { api_key: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/) } } },
    });

    const audit = await call('GET', '/_audit', { token: null });
    const text = JSON.stringify(audit.body);
    expect(audit.body).toHaveLength(10);
    for (const plain of [API_KEY, OLD_KEY, TOKEN]) expect(text).not.toContain(plain);
  });

  it('records a refused token too', async () => {
    await call('GET', `/v1/secret/data/${PATH}`, { token: 'wrong' });
    expect(vault.auditLog.map((e) => [e.type, e.error])).toEqual([
      ['request', undefined],
      ['response', 'permission denied'],
    ]);
    expect(JSON.stringify(vault.auditLog)).not.toContain('wrong');
  });
});

describe('when another client has a token of its own', () => {
  const ESO = 'eso-token';
  beforeEach(async () => {
    await vault.close();
    vault = await createVaultDouble({
      token: TOKEN,
      tokens: [
        {
          token: ESO,
          displayName: 'token-external-secrets',
          policies: ['default', 'external-secrets'],
          rules: [{ path: 'secret/data/api-credentials/*', capabilities: ['read'] }],
        },
      ],
    });
    vault.seed(PATH, { api_key: OLD_KEY });
  });

  it('may do what its policy allows, is refused the rest with 403, and is audited under its name', async () => {
    expect((await call('GET', `/v1/secret/data/${PATH}`, { token: ESO })).status).toBe(200);
    const write = await call('POST', `/v1/secret/data/${PATH}`, {
      token: ESO,
      body: { data: { api_key: 'x' } },
    });
    expect(write).toEqual({
      status: 403,
      body: { errors: ['1 error occurred:\n\t* permission denied\n\n'] },
    });
    expect((await call('GET', '/v1/secret/metadata/api-credentials/?list=true', { token: ESO })).status).toBe(
      403,
    );
    expect((await call('GET', '/v1/auth/token/lookup-self', { token: ESO })).body).toMatchObject({
      data: { display_name: 'token-external-secrets', policies: ['default', 'external-secrets'] },
    });
    const responses = vault.auditLog.filter((e) => e.type === 'response');
    expect(responses.map((e) => [e.request.operation, e.auth.display_name, e.error !== undefined])).toEqual([
      ['read', 'token-external-secrets', false],
      ['update', 'token-external-secrets', true],
      ['list', 'token-external-secrets', true],
      ['read', 'token-external-secrets', false],
    ]);
  });

  it('loses read access when its rules change, and the kv preflight refuses it a mount it cannot see', async () => {
    vault.setTokenRules(ESO, [{ path: 'other/*', capabilities: ['read'] }]);
    expect((await call('GET', `/v1/secret/data/${PATH}`, { token: ESO })).status).toBe(403);
    const preflight = await call('GET', `/v1/sys/internal/ui/mounts/secret/${PATH}`, { token: ESO });
    expect(preflight.status).toBe(403);
    const allowed = await call('GET', `/v1/sys/internal/ui/mounts/secret/${PATH}`);
    expect(allowed.body).toMatchObject({ data: { type: 'kv', options: { version: '2' }, path: 'secret/' } });
  });
});
