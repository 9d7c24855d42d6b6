import { externalSecretSynced } from '../../../src/adapters/deployers/external-secret-status';

const es = (refreshTime: string | undefined, ready: 'True' | 'False', reason = 'SecretSynced') => ({
  apiVersion: 'external-secrets.io/v1',
  kind: 'ExternalSecret',
  status: { refreshTime, conditions: [{ type: 'Ready', status: ready, reason }] },
});

describe('externalSecretSynced', () => {
  const since = new Date('2026-03-01T10:00:00.750Z');

  describe('when the operator refreshed in the same second as `since`', () => {
    it('counts as synced (refreshTime has second precision)', () => {
      expect(externalSecretSynced(es('2026-03-01T10:00:00Z', 'True'), since)).toBe(true);
    });
  });

  describe('when the last refresh is older than `since`', () => {
    it('is not synced', () => {
      expect(externalSecretSynced(es('2026-03-01T09:59:59Z', 'True'), since)).toBe(false);
    });
  });

  describe('when the refresh failed (Ready=False)', () => {
    it('is not synced', () => {
      expect(externalSecretSynced(es('2026-03-01T10:00:05Z', 'False', 'SecretSyncedError'), since)).toBe(
        false,
      );
    });
  });

  describe('when there is no status yet', () => {
    it('is not synced', () => {
      expect(externalSecretSynced({ kind: 'ExternalSecret' }, since)).toBe(false);
      expect(externalSecretSynced(es(undefined, 'True'), since)).toBe(false);
      expect(externalSecretSynced('nonsense', since)).toBe(false);
    });
  });
});
