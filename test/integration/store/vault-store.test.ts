import { inspect } from 'node:util';
import { createVaultDouble, type VaultDouble } from '../../../sandbox/vault/vault-double';
import { VaultSecretStore } from '../../../src/adapters/store/vault-store';
import type { RetryOptions } from '../../../src/adapters/retry';
import { isRotatorError, type RotatorError } from '../../../src/domain/errors';
import { Secret } from '../../../src/domain/secret';

const TOKEN = 'store-test-token';
const OLD_KEY = 'sk_live_old_51HxQ2bKz8cY0pLmN3vR';
const NEW_KEY = 'sk_live_new_77TgW9eDq1sF4hJkL6zX';
const PATH = 'api-credentials/payment-gateway-api';
const RUNBOOK_METADATA = {
  issuer: 'payment-provider.example.com',
  consumers: ['web-app', 'mobile-backend', 'batch-processor'],
  rotation_contact: 'payments-team@example.org',
  last_rotated: '2024-08-15T10:30:00Z',
};

let vault: VaultDouble;
let retries: number;

function storeFor(overrides: { token?: string; timeoutMs?: number; retry?: Partial<RetryOptions> } = {}) {
  return new VaultSecretStore({
    endpoint: vault.url,
    token: overrides.token ?? TOKEN,
    timeoutMs: overrides.timeoutMs ?? 1000,
    retry: {
      attempts: 3,
      baseDelayMs: 1,
      maxDelayMs: 5,
      onRetry: () => {
        retries += 1;
      },
      ...overrides.retry,
    },
  });
}

/** The rejection of `p`, asserted to be a RotatorError. */
async function failureOf(p: Promise<unknown>): Promise<RotatorError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!isRotatorError(e)) throw new Error(`expected a RotatorError, got ${inspect(e)}`);
  return e;
}

function expectNoValues(e: RotatorError): void {
  for (const text of [e.message, JSON.stringify(e), inspect(e), JSON.stringify(e.context)]) {
    for (const value of [OLD_KEY, NEW_KEY, TOKEN]) expect(text).not.toContain(value);
  }
}

const newVersion = {
  value: new Secret(NEW_KEY),
  keyId: 'key_new',
  previousValue: new Secret(OLD_KEY),
  previousKeyId: 'key_old',
  rotatedAt: '2024-11-13T09:00:00Z',
  rotatedBy: 'rotator:run-1',
};

beforeEach(async () => {
  retries = 0;
  vault = await createVaultDouble({ token: TOKEN });
  vault.seed(
    PATH,
    {
      api_key: OLD_KEY,
      previous_key: '',
      rotated_at: '2024-08-15T10:30:00Z',
      metadata: RUNBOOK_METADATA,
      note: 'x',
    },
    { createdTime: '2024-08-15T10:30:00Z' },
  );
});

afterEach(async () => {
  await vault.close();
});

describe('when a credential is read', () => {
  it('returns the current version with its value wrapped and the runbook metadata', async () => {
    const found = await storeFor().read(PATH);
    expect(found).toMatchObject({
      path: PATH,
      version: 1,
      createdTime: '2024-08-15T10:30:00Z',
      rotatedAt: '2024-08-15T10:30:00Z',
      metadata: RUNBOOK_METADATA,
    });
    expect(found?.value?.reveal()).toBe(OLD_KEY);
    expect(found?.previousValue).toBeUndefined();
    expect(JSON.stringify(found)).not.toContain(OLD_KEY);
  });

  it('returns an older version when asked', async () => {
    vault.seed(PATH, { api_key: NEW_KEY });
    const found = await storeFor().read(PATH, 1);
    expect(found?.version).toBe(1);
    expect(found?.value?.reveal()).toBe(OLD_KEY);
  });

  it('returns undefined when the path does not exist', async () => {
    await expect(storeFor().read('api-credentials/nope')).resolves.toBeUndefined();
  });
});

describe('when a new version is written', () => {
  it('stores exactly the given fields and keeps the stored metadata merged in', async () => {
    const version = await storeFor().write(
      PATH,
      {
        ...newVersion,
        emergencyRotation: true,
        incidentReference: 'inc-42',
        metadata: { last_rotated: '2024-11-13T09:00:00Z' },
      },
      1,
    );
    expect(version).toBe(2);
    expect(vault.current(PATH)?.data).toEqual({
      api_key: NEW_KEY,
      api_key_id: 'key_new',
      previous_key: OLD_KEY,
      previous_key_id: 'key_old',
      rotated_at: '2024-11-13T09:00:00Z',
      rotated_by: 'rotator:run-1',
      emergency_rotation: 'true',
      incident_reference: 'inc-42',
      metadata: { ...RUNBOOK_METADATA, last_rotated: '2024-11-13T09:00:00Z' },
    });
    const back = await storeFor().read(PATH);
    expect(back).toMatchObject({
      version: 2,
      keyId: 'key_new',
      previousKeyId: 'key_old',
      emergencyRotation: true,
    });
    expect(back?.previousValue?.reveal()).toBe(OLD_KEY);
  });

  describe('right after the version it replaces was read', () => {
    it('merges the metadata that read saw instead of reading the version again', async () => {
      const store = storeFor();
      await store.read(PATH);
      const requests = () =>
        vault.auditLog.filter((e) => e.type === 'request').map((e) => e.request.operation);
      const before = requests().length;

      await store.write(PATH, newVersion, 1);

      expect(requests().slice(before)).toEqual(['update']);
      expect(vault.current(PATH)?.data['metadata']).toEqual(RUNBOOK_METADATA);
    });

    it('reads the version when the write is a check-and-set on another one', async () => {
      const store = storeFor();
      await store.read(PATH);
      vault.seed(PATH, {
        api_key: OLD_KEY,
        metadata: { ...RUNBOOK_METADATA, rotation_contact: 'sre@example.org' },
      });
      const before = vault.auditLog.length;

      await store.write(PATH, newVersion, 2);

      const ops = vault.auditLog.slice(before).filter((e) => e.type === 'request');
      expect(ops.map((e) => e.request.operation)).toEqual(['read', 'update']);
      expect(vault.current(PATH)?.data['metadata']).toEqual({
        ...RUNBOOK_METADATA,
        rotation_contact: 'sre@example.org',
      });
    });
  });

  it('creates an absent credential with cas 0', async () => {
    await expect(storeFor().write('api-credentials/crm-integration', newVersion, 0)).resolves.toBe(1);
    expect(vault.current('api-credentials/crm-integration')?.data['api_key']).toBe(NEW_KEY);
  });

  describe('when the cas does not match', () => {
    it('refuses with store_conflict, not transient, and writes nothing', async () => {
      const e = await failureOf(storeFor().write(PATH, newVersion, 0));
      expect(e).toMatchObject({ code: 'store_conflict', transient: false });
      expect(e.message).toContain(`secret/data/${PATH}`);
      expect(vault.versions(PATH)).toBe(1);
      expect(retries).toBe(0);
      expectNoValues(e);
    });
  });

  describe('when the answer to a write that landed is lost', () => {
    it('recognises its own version on the retry instead of reporting a conflict', async () => {
      vault.faults.add({ method: 'POST', path: '/v1/secret/data/', latencyMs: 300, times: 1 });
      const store = storeFor({ timeoutMs: 100, retry: { baseDelayMs: 500, maxDelayMs: 500 } });
      await expect(store.write(PATH, newVersion, 1)).resolves.toBe(2);
      expect(vault.versions(PATH)).toBe(2);
      expect(retries).toBe(1);
    });
  });
});

describe('when a version is patched', () => {
  it('clears the previous key and records verification in a new version', async () => {
    vault.seed(PATH, {
      api_key: NEW_KEY,
      previous_key: OLD_KEY,
      previous_key_id: 'key_old',
      metadata: RUNBOOK_METADATA,
    });
    const version = await storeFor().patch(
      PATH,
      {
        clearPrevious: true,
        rotationVerifiedAt: '2024-11-13T09:05:00Z',
        metadata: { last_rotated: '2024-11-13T09:00:00Z' },
      },
      2,
    );
    expect(version).toBe(3);
    expect(vault.current(PATH)?.data).toEqual({
      api_key: NEW_KEY,
      previous_key: '',
      previous_key_id: '',
      rotation_verified_at: '2024-11-13T09:05:00Z',
      metadata: { ...RUNBOOK_METADATA, last_rotated: '2024-11-13T09:00:00Z' },
    });
    const back = await storeFor().read(PATH);
    expect(back?.previousValue).toBeUndefined();
    expect(back?.previousKeyId).toBeUndefined();
  });

  it('sends a merge patch, as the audit device shows', async () => {
    await storeFor().patch(PATH, { rotationVerifiedAt: '2024-11-13T09:05:00Z' }, 1);
    expect(vault.auditLog.filter((e) => e.type === 'request').map((e) => e.request.operation)).toEqual([
      'patch',
    ]);
  });

  describe('when the cas does not match', () => {
    it('refuses with store_conflict', async () => {
      const e = await failureOf(storeFor().patch(PATH, { clearPrevious: true }, 5));
      expect(e).toMatchObject({ code: 'store_conflict', transient: false });
      expect(vault.versions(PATH)).toBe(1);
    });
  });

  describe('when the path does not exist', () => {
    it('refuses with store_missing', async () => {
      const e = await failureOf(storeFor().patch('api-credentials/nope', { clearPrevious: true }, 1));
      expect(e).toMatchObject({ code: 'store_missing', transient: false });
    });
  });
});

describe('when a folder is listed', () => {
  it('returns the names and sub-folders below it', async () => {
    vault.seed('api-credentials/crm-integration', { api_key: 'a' });
    vault.seed('api-credentials/legacy/monitoring-service', { api_key: 'b' });
    await expect(storeFor().list('api-credentials/')).resolves.toEqual([
      'crm-integration',
      'legacy/',
      'payment-gateway-api',
    ]);
  });

  it('returns [] when the folder is empty', async () => {
    await expect(storeFor().list('webhooks/')).resolves.toEqual([]);
  });
});

describe('when the token is not allowed', () => {
  it("fails with store_permission_denied and the runbook's hint, without retrying", async () => {
    const e = await failureOf(storeFor({ token: 'wrong-token' }).write(PATH, newVersion, 0));
    expect(e).toMatchObject({ code: 'store_permission_denied', transient: false });
    expect(e.message).toContain('token lacks update capability');
    expect(e.message).toContain('403');
    expect(retries).toBe(0);
    expectNoValues(e);
  });
});

describe('when Vault answers 503 once', () => {
  it('retries and succeeds', async () => {
    vault.faults.add({ path: '/v1/secret/', status: 503, body: { errors: ['Vault is sealed'] }, times: 1 });
    await expect(storeFor().write(PATH, newVersion, 1)).resolves.toBe(2);
    expect(retries).toBe(1);
  });
});

describe('when Vault keeps failing', () => {
  it('fails with store_unavailable after the bounded attempts (5xx)', async () => {
    vault.faults.add({
      path: '/v1/secret/',
      status: 500,
      body: { errors: [`internal error near ${NEW_KEY}`] },
    });
    const e = await failureOf(storeFor().write(PATH, newVersion, 0));
    expect(e).toMatchObject({ code: 'store_unavailable', transient: true });
    expect(e.message).toContain('500');
    expect(retries).toBe(2);
    expectNoValues(e);
  });

  it('fails with store_unavailable when connections drop', async () => {
    vault.faults.add({ path: '/v1/secret/', drop: true });
    const e = await failureOf(storeFor().write(PATH, newVersion, 0));
    expect(e).toMatchObject({ code: 'store_unavailable', transient: true });
    expect(retries).toBe(2);
    expectNoValues(e);
  });

  it('fails with store_unavailable when the connection is refused', async () => {
    const store = storeFor();
    await vault.close();
    const e = await failureOf(store.read(PATH));
    expect(e).toMatchObject({ code: 'store_unavailable', transient: true });
    expect(e.message).toContain('ECONNREFUSED');
    expect(retries).toBe(2);
    vault = await createVaultDouble({ token: TOKEN }); // for afterEach
  });

  it('fails with store_unavailable when Vault does not answer in time', async () => {
    vault.faults.add({ path: '/v1/secret/', latencyMs: 200 });
    const e = await failureOf(storeFor({ timeoutMs: 50 }).write(PATH, newVersion, 0));
    expect(e).toMatchObject({ code: 'store_unavailable', transient: true });
    expect(e.message).toContain('within 50 ms');
    expectNoValues(e);
  });
});
