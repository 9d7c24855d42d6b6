import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const NS = 'payments';

describe('scheduled rotation, end to end', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  describe('when every consumer comes back healthy', () => {
    it('rotates the key at the provider, in Vault and in every consumer, then revokes the old key', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      const versionBefore = h.world.vault.versions(PATH);

      const started = await h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'alice', name: 'alice' },
      });
      const run = await h.waitForRun(started.id);

      expect(run.outcome).toBe('succeeded');
      expect(run.steps.map((s) => [s.name, s.status])).toEqual([
        ['check-dependencies', 'done'],
        ['generate', 'done'],
        ['store-new', 'done'],
        ['deploy', 'done'],
        ['verify', 'done'],
        ['revoke-old', 'done'],
        ['record', 'done'],
        ['notify', 'done'],
      ]);
      // Provider: one new active key, the old one revoked and rejected.
      const active = h.world.provider.activeKeys();
      // One per credential whose keys live in the shared provider double (the manual one's console too).
      expect(active).toHaveLength(4);
      const newKey = active.find((k) => k.id === run.facts.newKeyId);
      expect(newKey?.name).toBe(`rotator/${NAME}/${run.id}`);
      expect(h.world.provider.keys().find((k) => k.id === oldKeyId)?.status).toBe('revoked');
      expect(h.world.provider.accepts(oldValue)).toBe(false);
      // Vault: new version with previous_key set, then a patch clearing it.
      const current = h.world.vault.current(PATH)!;
      expect(current.version).toBe(versionBefore + 2);
      expect(current.data.api_key).not.toBe(oldValue);
      expect(current.data.api_key_id).toBe(run.facts.newKeyId);
      expect(current.data.previous_key).toBe('');
      expect(current.data.rotation_verified_at).toEqual(expect.any(String));
      expect(current.data.rotated_by).toBe('cli:alice');
      expect(run.facts.newVersion).toBe(versionBefore + 1);
      // Kubernetes: startup consumers restarted onto the new value; the scheduled one reads it next job.
      const newValue = current.data.api_key as string;
      expect(h.world.kubernetes.restarts(NS, 'web-app')).toBe(1);
      expect(h.world.kubernetes.restarts(NS, 'mobile-backend')).toBe(1);
      expect(h.world.kubernetes.restarts(NS, 'batch-processor')).toBe(0);
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).toBe(newValue);
      // Audit: a started and a completed record for every step, then run.finished.
      const audit = await h.services.audit.recent({ runId: run.id, limit: 100 });
      for (const step of run.steps) {
        expect(
          audit
            .filter((a) => a.step === step.name)
            .map((a) => a.action)
            .sort(),
        ).toEqual(['step.completed', 'step.started']);
      }
      expect(audit.some((a) => a.action === 'run.finished' && a.outcome === 'succeeded')).toBe(true);
      // The lock is released.
      expect(await h.services.runs.lockHolder(NAME)).toBeUndefined();
    });
  });

  describe('when the consumer re-reads the secret itself (dynamic reload)', () => {
    it('waits out its cache instead of restarting it, then verifies it on the new key', async () => {
      await h.close();
      h = await startHarness({ cacheTtlSeconds: 1 });
      const started = await h.services.service.start({
        credential: 'monitoring-service',
        requester: { kind: 'cli', id: 'alice', name: 'alice' },
      });
      const run = await h.waitForRun(started.id);
      expect(run.outcome).toBe('succeeded');
      expect(h.world.kubernetes.restarts('monitoring', 'metrics-agent')).toBe(0);
      const synced = Date.parse(run.facts.deploys!.forward!.syncedAt!);
      expect(Date.parse(run.facts.deployedAt!) - synced).toBeGreaterThanOrEqual(1000);
      const current = h.world.vault.current('api-credentials/monitoring-service')!;
      expect(h.world.consumerValue('monitoring-service', 'metrics-agent')).toBe(current.data.api_key);
      expect(run.facts.consumersVerified).toEqual(['metrics-agent']);
    });
  });
});
