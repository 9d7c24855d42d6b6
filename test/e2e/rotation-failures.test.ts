import { isRotatorError } from '../../src/domain/errors';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const alice = { kind: 'cli' as const, id: 'alice', name: 'alice' };

describe('scheduled rotation when things go wrong', () => {
  let h: Harness;
  afterEach(async () => {
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  describe('when a consumer stays unhealthy on the new key', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('rolls back: the old key is current again in Vault, still valid, and the new key is revoked', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      const base = h.world.vault.versions(PATH);
      const app = h.world.apps.get(NAME)!;
      app.forceUnhealthy('web-app', true);

      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      // The fault is in the new deployment: it goes away once the previous value is restored.
      await h.waitForRun(id, (r) =>
        r.steps.some((s) => s.name === 'restore-previous' && s.status === 'done'),
      );
      app.forceUnhealthy('web-app', false);
      const run = await h.waitForRun(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({
        step: 'verify',
        code: 'verify_failed',
        hint: 'app_401_after_rotation',
      });
      expect(run.steps.filter((s) => s.phase === 'rollback').map((s) => [s.name, s.status])).toEqual([
        ['restore-previous', 'done'],
        ['redeploy-previous', 'done'],
        ['reverify-previous', 'done'],
        ['revoke-new', 'done'],
      ]);
      expect(run.steps.find((s) => s.name === 'revoke-old')?.status).toBe('skipped');
      const current = h.world.vault.current(PATH)!;
      expect(current.data.api_key).toBe(oldValue);
      expect(current.data.api_key_id).toBe(oldKeyId);
      expect(current.version).toBe(base + 2);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
      expect(h.world.provider.keys().find((k) => k.id === run.facts.newKeyId)?.status).toBe('revoked');
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).toBe(oldValue);
      expect(Date.parse(run.updatedAt) - Date.parse(run.facts.rollbackStartedAt!)).toBeLessThan(15 * 60_000);
      expect(await h.services.runs.lockHolder(NAME)).toBeUndefined();
    });
  });

  describe('when the batch processor logs authentication failures after the deploy began', () => {
    beforeEach(async () => {
      h = await startHarness({ rolloutDelayMs: 800 });
    });

    it('fails verification on its logs, as the runbook checks them, and rolls back', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      await h.waitForRun(id, (r) => r.facts.deploys?.forward?.syncRequestedAt !== undefined);
      // Its HTTP health stays green: only `kubectl logs deployment/batch-processor` shows it.
      h.world.kubernetes.appendLog(
        'payments',
        'batch-processor',
        'level=error msg="payment-gateway-api: authentication failed: 401 Unauthorized from payment-provider.example.com"',
      );
      const run = await h.waitForRun(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({ step: 'verify', code: 'verify_failed' });
      expect(run.failure?.message).toMatch(
        /batch-processor \(200, payment_gateway=connected; logs: 2 authentication errors \(2 pods, last 50 lines\), e\.g\. batch-processor-\S+: level=error msg="payment-gateway-api: authentication failed/,
      );
      // The failure predates the rollback's deploy: the previous key verifies clean.
      expect(run.steps.find((s) => s.name === 'reverify-previous')?.status).toBe('done');
      expect(h.world.vault.current(PATH)!.data.api_key).toBe(oldValue);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
    });
  });

  describe('when a rotation of the credential is already running', () => {
    beforeEach(async () => {
      h = await startHarness({ rolloutDelayMs: 800 });
    });

    it('refuses the second request, naming the run that holds the lock, and enqueues nothing', async () => {
      const first = await h.services.service.start({ credential: NAME, requester: alice });
      const second = h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'bob', name: 'bob' },
      });
      await expect(second).rejects.toMatchObject({ code: 'locked', context: { runId: first.id } });
      await second.catch((e: unknown) => expect(isRotatorError(e) && e.message).toContain(first.id));
      const jobs = await h.services.queue.getJobs(['waiting', 'active', 'delayed', 'completed']);
      expect(jobs.map((j) => j.data.runId)).toEqual([first.id]);
      expect(
        (await h.services.audit.recent({ credential: NAME })).some((a) => a.action === 'run.refused'),
      ).toBe(true);
      expect((await h.waitForRun(first.id)).outcome).toBe('succeeded');
    });
  });

  describe('when the provider reports the old key in use after every consumer was redeployed', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('refuses to revoke it and says which key was used when', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      // A consumer nobody declared keeps calling with the old key.
      const forgotten = setInterval(() => h.world.provider.use(oldValue), 20);
      try {
        const { id } = await h.services.service.start({ credential: NAME, requester: alice });
        const run = await h.waitForRun(id);
        expect(run.outcome).toBe('refused');
        expect(run.failure).toMatchObject({
          step: 'revoke-old',
          code: 'old_key_in_use',
          hint: 'cannot_revoke_old',
        });
        expect(run.failure!.message).toContain(oldKeyId);
        expect(run.failure!.message).toMatch(/used at \d{4}-\d\d-\d\dT/);
        expect(run.steps.find((s) => s.name === 'record')?.status).toBe('skipped');
        expect(run.steps.find((s) => s.name === 'notify')?.status).toBe('done');
      } finally {
        clearInterval(forgotten);
      }
      expect(h.world.provider.accepts(oldValue)).toBe(true);
      const current = h.world.vault.current(PATH)!;
      expect(current.data.previous_key).toBe(oldValue); // kept until someone revokes it
      expect(h.world.provider.accepts(current.data.api_key as string)).toBe(true);
    });
  });

  describe('when the provider keeps failing while the new key is created', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('fails cleanly: no new key at the provider and Vault still pointing at the working key', async () => {
      const before = h.world.vault.current(PATH)!;
      h.world.provider.faults.add({
        method: 'POST',
        path: '/v1/api-keys',
        status: 500,
        body: { error: 'internal' },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'generate', code: 'issuer_unavailable' });
      expect(h.world.provider.activeKeys().filter((k) => k.name.startsWith(`rotator/${NAME}/`))).toEqual([]);
      expect(h.world.vault.current(PATH)).toEqual(before);
      expect(h.world.provider.accepts(before.data.api_key as string)).toBe(true);
    });
  });

  describe('when Vault is down after the key was created', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('revokes the new key so no orphan is left, and the old key keeps working', async () => {
      const before = h.world.vault.current(PATH)!;
      h.world.vault.faults.add({
        method: 'POST',
        path: '/v1/secret/data/',
        status: 503,
        body: { errors: ['Vault is sealed'] },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'store-new', code: 'store_unavailable' });
      expect(run.facts.orphansRevoked).toEqual([run.facts.newKeyId]);
      expect(h.world.provider.activeKeys().filter((k) => k.name.startsWith(`rotator/${NAME}/`))).toEqual([]);
      expect(h.world.vault.current(PATH)).toEqual(before);
    });
  });

  describe('when the provider rate-limits and the Kubernetes API blips', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('waits out the reset, retries, and completes', async () => {
      h.world.provider.rateLimit(1, 0.2);
      h.world.kubernetes.faults.add({
        method: 'PATCH',
        path: '/deployments/web-app',
        status: 500,
        times: 1,
        body: { kind: 'Status' },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('succeeded');
      expect(h.world.kubernetes.restarts('payments', 'web-app')).toBe(1);
    });
  });

  describe('when the deploy fails at once and the rollback follows within the same second', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('puts every consumer back on the old key, which the provider still accepts', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      h.world.kubernetes.faults.add({
        method: 'PATCH',
        path: '/deployments/web-app',
        status: 403,
        times: 1,
        body: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403 },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({ step: 'deploy', code: 'deploy_failed' });
      for (const c of ['web-app', 'mobile-backend', 'batch-processor']) {
        expect(h.world.consumerValue(NAME, c)).toBe(oldValue);
      }
      expect(h.world.provider.accepts(oldValue)).toBe(true);
      expect(h.world.vault.current(PATH)!.data.api_key).toBe(oldValue);
    });
  });

  describe('when Vault answers 503 for a few seconds during verification', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('waits for it instead of rolling back, and completes', async () => {
      h.world.vault.faults.add({
        method: 'GET',
        path: '/v1/secret/data/api-credentials/payment-gateway-api',
        status: 503,
        times: 6,
        body: { errors: ['Vault is sealed'] },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('succeeded');
      expect(run.steps.some((s) => s.phase === 'rollback')).toBe(false);
    });
  });

  describe('when the summary cannot be posted', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('keeps the outcome and records that the summary is missing', async () => {
      h.world.slack.faults.add({
        path: '/api/chat.postMessage',
        status: 200,
        body: { ok: false, error: 'not_in_channel' },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      // The rotation does not wait for Slack; the refusal reaches the finished run afterwards.
      const run = await h.waitForRun(id, (r) => r.status === 'finished' && r.notifyError !== undefined);
      expect(run.outcome).toBe('succeeded');
      expect(run.failure).toBeUndefined();
      expect(run.notifyError).toContain('C_PAYMENTS (not_in_channel)');
      expect(run.notifyError).toContain("I'm not a member");
      const finished = await h.services.audit.recent({ runId: id, limit: 100 });
      expect(finished.find((a) => a.action === 'run.finished')?.outcome).toBe('succeeded');
    });
  });

  describe('when an earlier run left the key before the current one active', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('refuses to rotate again until that key is dealt with', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      const forgotten = setInterval(() => h.world.provider.use(oldValue), 20);
      try {
        const first = await h.services.service.start({ credential: NAME, requester: alice });
        expect((await h.waitForRun(first.id)).outcome).toBe('refused');
      } finally {
        clearInterval(forgotten);
      }
      const version = h.world.vault.versions(PATH);
      const activeBefore = h.world.provider.activeKeys().length;

      const second = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(second.id);
      expect(run.outcome).toBe('refused');
      expect(run.failure).toMatchObject({ step: 'check-dependencies', code: 'old_key_in_use' });
      expect(run.failure!.message).toContain(oldKeyId);
      expect(h.world.vault.versions(PATH)).toBe(version);
      expect(h.world.provider.activeKeys()).toHaveLength(activeBefore);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
    });
  });
});
