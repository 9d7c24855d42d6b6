import type { Worker } from 'bullmq';
import { kill, spawnWorker } from '../helpers/child-worker';
import { eventually } from '../helpers/eventually';
import { replacementWorkers, startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

const NAME = 'reporting-sso-client';
const PATH = 'api-credentials/reporting-sso-client';
const CLIENT = 'reporting-portal';
const alice = { kind: 'cli' as const, id: 'alice', name: 'alice' };

describe('an OAuth client secret rotated through the generic HTTP issuer', () => {
  let h: Harness;
  const childLogs: string[] = [];
  afterEach(async () => {
    expect(await closeAndFindLeaks(h, childLogs.splice(0))).toEqual([]);
  });
  const rotatorSecrets = () =>
    h.world.oauth.secrets(CLIENT).filter((s) => s.description.startsWith(`rotator/${NAME}/`));

  describe('when the consumer comes back healthy on the new secret', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('creates a secret at the IdP, stores and deploys it, proves it with a grant, and deletes the old one', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const oldId = h.world.seededKeyIds.get(NAME)!;
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const run = await h.waitForRun(id);

      expect(run.outcome).toBe('succeeded');
      expect(run.steps.filter((s) => s.status !== 'done').map((s) => [s.name, s.status, s.detail])).toEqual(
        [],
      );
      // The IdP: only the run's secret is left; it wins a client_credentials grant, the old one is refused.
      expect(h.world.oauth.secrets(CLIENT).map((s) => [s.id, s.description])).toEqual([
        [run.facts.newKeyId, `rotator/${NAME}/${run.id}`],
      ]);
      expect(h.world.oauth.secrets(CLIENT).some((s) => s.id === oldId)).toBe(false);
      expect(h.world.oauth.accepts(CLIENT, oldValue)).toBe(false);
      const current = h.world.vault.current(PATH)!;
      expect(current.data.api_key_id).toBe(run.facts.newKeyId);
      expect(current.data.previous_key).toBe('');
      expect(h.world.oauth.accepts(CLIENT, current.data.api_key as string)).toBe(true);
      // Restart-required by default: the consumer declares no reload mode and was restarted.
      expect(h.world.kubernetes.restarts('reporting', 'reporting-portal')).toBe(1);
      expect(h.world.consumerValue(NAME, 'reporting-portal')).toBe(current.data.api_key);
    });
  });

  describe('when the consumer stays unhealthy on the new secret', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('rolls back: the old secret is served and accepted again, and the new one is deleted at the IdP', async () => {
      const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
      const app = h.world.apps.get(NAME)!;
      app.forceUnhealthy(CLIENT, true);
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      await h.waitForRun(id, (r) =>
        r.steps.some((s) => s.name === 'restore-previous' && s.status === 'done'),
      );
      app.forceUnhealthy(CLIENT, false);
      const run = await h.waitForRun(id);

      expect(run.outcome).toBe('rolled_back');
      expect(run.failure).toMatchObject({ step: 'verify', code: 'verify_failed' });
      expect(h.world.vault.current(PATH)!.data.api_key).toBe(oldValue);
      expect(h.world.oauth.accepts(CLIENT, oldValue)).toBe(true);
      expect(rotatorSecrets()).toEqual([]);
      expect(h.world.consumerValue(NAME, 'reporting-portal')).toBe(oldValue);
    });
  });

  describe('when the worker dies between creating the secret and storing it', () => {
    const replacement: Worker[] = [];
    beforeEach(async () => {
      h = await startHarness({
        worker: false,
        extraEnv: { WORKER_LOCK_MS: '2000', OLD_KEY_QUIET_SECONDS: '0', LOG_LEVEL: 'info' },
      });
    });
    afterEach(async () => {
      await Promise.allSettled(replacement.splice(0).map((w) => w.close()));
    });

    it('the next worker deletes the secret whose value died with it, creates another, and completes', async () => {
      // Vault writes hang, so the worker is inside store-new, holding the only copy of the value.
      h.world.vault.faults.add({ method: 'POST', path: `/v1/secret/data/${PATH}`, latencyMs: 30_000 });
      const first = spawnWorker(h.env);
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      const lost = await h.waitForRun(
        id,
        (r) =>
          r.facts.newKeyId !== undefined &&
          r.steps.some((s) => s.name === 'store-new' && s.status === 'running'),
        30_000,
      );
      await eventually(() => rotatorSecrets().length === 1, 15_000);
      await kill(first.child);
      childLogs.push(first.output());
      h.world.vault.faults.clear();

      replacement.push(...(await replacementWorkers(h)));
      const run = await h.waitForRun(id, undefined, 30_000);

      expect(run.outcome).toBe('succeeded');
      expect(run.facts.orphansRevoked).toContain(lost.facts.newKeyId);
      // No orphan: the only rotator secret at the IdP is the one Vault serves.
      expect(rotatorSecrets().map((s) => s.id)).toEqual([run.facts.newKeyId]);
      expect(h.world.vault.current(PATH)!.data.api_key_id).toBe(run.facts.newKeyId);
    });
  });
});
