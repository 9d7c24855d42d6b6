import { startHarness, type Harness } from '../helpers/harness';
import { findLeaks } from '../helpers/leaks';
import { eventually } from '../helpers/eventually';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const DATA_PATH = `/v1/secret/data/${PATH}`;
const alice = { kind: 'cli' as const, id: 'alice', name: 'alice' };

/**
 * Vault applies a write but its answer never arrives (a proxy timing out, a connection reset): the
 * run must read Vault back before it revokes or rolls back anything.
 */
describe('a Vault write whose answer is lost', () => {
  let h: Harness;
  afterEach(async () => {
    const leaks = await findLeaks(h).finally(() => h.close());
    expect(leaks).toEqual([]);
  });

  describe('when store-new lands but every attempt is answered with a 503', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('goes on with the new key: Vault serves a key the provider accepts, and every consumer has it', async () => {
      const base = h.world.vault.versions(PATH);
      h.world.vault.faults.add({
        method: 'POST',
        path: DATA_PATH,
        afterApply: true,
        status: 503,
        body: { errors: ['upstream timed out'] },
        times: 4,
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);

      expect(run.outcome).toBe('succeeded');
      const current = h.world.vault.current(PATH)!;
      expect(current.data.rotation_run_id).toBe(id);
      expect(current.data.api_key_id).toBe(run.facts.newKeyId);
      expect(h.world.provider.accepts(current.data.api_key as string)).toBe(true);
      expect(run.facts.orphansRevoked ?? []).not.toContain(run.facts.newKeyId);
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).toBe(current.data.api_key);
      expect(current.version).toBe(base + 2); // store-new once, record once
      expect(run.steps.find((s) => s.name === 'store-new')?.detail).toContain('after a lost answer');
    });
  });

  describe('when the write lands and Vault then cannot be read for a while', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('keeps both keys and waits, then finishes the rotation once Vault answers', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const base = h.world.vault.versions(PATH);
      h.world.vault.faults.add({ method: 'POST', path: DATA_PATH, afterApply: true, drop: true, times: 4 });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      // Once the write has landed (its answers are being dropped), and before the retries give up.
      await eventually(() => h.world.vault.versions(PATH) > base);
      // From the read-back on, Vault cannot be read: the write's fate is unknown for a few polls.
      h.world.vault.faults.add({ method: 'GET', path: DATA_PATH, status: 503, body: { errors: ['sealed'] } });
      const waiting = await h.waitForRun(id, (r) =>
        r.steps.some((s) => s.name === 'store-new' && s.status === 'waiting'),
      );
      expect(waiting.steps.find((s) => s.name === 'store-new')?.detail).toMatch(/both keys stay active/);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
      expect(h.world.provider.keys().find((k) => k.id === waiting.facts.newKeyId)?.status).toBe('active');
      h.world.vault.faults.clear();

      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('succeeded');
      const current = h.world.vault.current(PATH)!;
      expect(current.data.rotation_run_id).toBe(id);
      expect(h.world.provider.accepts(current.data.api_key as string)).toBe(true);
      expect(h.world.provider.accepts(oldValue)).toBe(false);
    });
  });

  describe('when Vault stays unreadable after an unanswered write', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('fails without revoking the new key, which Vault holds, and says so', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const base = h.world.vault.versions(PATH);
      h.world.vault.faults.add({ method: 'POST', path: DATA_PATH, afterApply: true, drop: true, times: 4 });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      // Once the write has landed (its answers are being dropped), and before the retries give up.
      await eventually(() => h.world.vault.versions(PATH) > base);
      h.world.vault.faults.add({ method: 'GET', path: DATA_PATH, status: 503, body: { errors: ['sealed'] } });

      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ step: 'store-new', code: 'store_unavailable' });
      expect(run.failure!.message).toContain(`new key ${run.facts.newKeyId} was kept`);
      h.world.vault.faults.clear();
      const current = h.world.vault.current(PATH)!;
      // Vault serves the new key; it must still work, and so must the old one (nothing was deployed).
      expect(current.data.api_key_id).toBe(run.facts.newKeyId);
      expect(h.world.provider.accepts(current.data.api_key as string)).toBe(true);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
    });
  });

  describe("when the rollback's restore lands but its answer is lost", () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('sees the old key back in Vault and finishes the rollback', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const app = h.world.apps.get(NAME)!;
      app.forceUnhealthy('web-app', true);
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      await h.waitForRun(id, (r) => r.steps.some((s) => s.name === 'verify' && s.status === 'waiting'));
      // The next write is the rollback's restore.
      h.world.vault.faults.add({
        method: 'POST',
        path: DATA_PATH,
        afterApply: true,
        status: 502,
        body: { errors: ['bad gateway'] },
        times: 4,
      });
      await h.waitForRun(id, (r) =>
        r.steps.some((s) => s.name === 'restore-previous' && s.status === 'done'),
      );
      app.forceUnhealthy('web-app', false);

      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('rolled_back');
      expect(run.steps.filter((s) => s.phase === 'rollback').every((s) => s.status === 'done')).toBe(true);
      expect(h.world.vault.current(PATH)!.data.api_key).toBe(oldValue);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
      expect(h.world.provider.keys().find((k) => k.id === run.facts.newKeyId)?.status).toBe('revoked');
    });
  });

  describe('when the record patch keeps failing after the old key was revoked', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('reports a succeeded rotation with the record pending, not a failure', async () => {
      h.world.vault.faults.add({
        method: 'PATCH',
        path: DATA_PATH,
        status: 503,
        body: { errors: ['sealed'] },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);
      expect(run.outcome).toBe('succeeded');
      expect(run.failure).toBeUndefined();
      expect(run.facts.recordPending).toBe(true);
      expect(run.facts.revokedAt).toBeDefined();
      const summary = await eventually(() =>
        h.world.slack
          .calls()
          .filter((c) => c.method === 'chat.postMessage')
          .map((c) => JSON.stringify(c.args))
          .find((b) => b.includes('Rotated')),
      );
      expect(summary).toContain('retried automatically');
    });
  });
});
