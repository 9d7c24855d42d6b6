import type { Worker } from 'bullmq';
import { kill, spawnWorker } from '../helpers/child-worker';
import { replacementWorkers, startHarness, type Harness } from '../helpers/harness';
import { eventually } from '../helpers/eventually';
import { closeAndFindLeaks } from '../helpers/leaks';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const LOCK_MS = 2000;

describe('when the worker process dies in the middle of a run', () => {
  let h: Harness;
  const replacement: Worker[] = [];
  const childLogs: string[] = [];

  beforeEach(async () => {
    h = await startHarness({
      worker: false,
      rolloutDelayMs: 1500,
      extraEnv: { WORKER_LOCK_MS: String(LOCK_MS), OLD_KEY_QUIET_SECONDS: '0', LOG_LEVEL: 'info' },
    });
  });
  afterEach(async () => {
    await Promise.allSettled(replacement.splice(0).map((w) => w.close()));
    expect(await closeAndFindLeaks(h, childLogs.splice(0))).toEqual([]);
  });

  const startReplacement = async () => {
    replacement.push(...(await replacementWorkers(h, LOCK_MS)));
  };
  const rotatorKeys = () => h.world.provider.keys().filter((k) => k.name.startsWith(`rotator/${NAME}/`));

  describe('during the deploy step, while it is talking to the cluster', () => {
    it('another worker resumes it: one new key at the provider, one new Vault version, one restart', async () => {
      const base = h.world.vault.versions(PATH);
      // Rollout status reads hang, so the worker is inside the deploy step (job active) when it dies.
      h.world.kubernetes.faults.add({ method: 'GET', path: '/deployments/web-app', latencyMs: 5_000 });
      const first = spawnWorker(h.env);
      const { id } = await h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'alice' },
      });
      await h.waitForRun(
        id,
        (r) =>
          r.steps.some((s) => s.name === 'deploy' && (s.status === 'running' || s.status === 'waiting')) &&
          r.facts.deploys?.forward?.restartRequestedAt !== undefined,
        30_000,
      );
      // The restart patch is out (the status read after it hangs).
      await eventually(
        () =>
          JSON.stringify(h.world.kubernetes.deployment('payments', 'web-app')).includes(
            'kubectl.kubernetes.io/restartedAt',
          ),
        15_000, // a child process on a loaded 2-core machine
      );
      await kill(first.child);
      childLogs.push(first.output());
      h.world.kubernetes.faults.clear();

      await startReplacement();
      const run = await h.waitForRun(id, undefined, 30_000);

      expect(run.outcome).toBe('succeeded');
      expect(rotatorKeys()).toEqual([expect.objectContaining({ id: run.facts.newKeyId, status: 'active' })]);
      expect(h.world.vault.versions(PATH)).toBe(base + 2); // store-new once, record once
      expect(h.world.kubernetes.restarts('payments', 'web-app')).toBe(1);
    });
  });

  describe('when the job gives up for good', () => {
    it('finishes the run as failed and releases the credential', async () => {
      const { id } = await h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'alice' },
      });
      // The credential disappears from the catalog before a worker takes the run: nothing can fix that.
      h.services.config.catalog.credentials.delete(NAME);
      await startReplacement();
      const run = await h.waitForRun(id, undefined, 15_000);
      expect(run.outcome).toBe('failed');
      expect(run.failure).toMatchObject({ code: 'abandoned' });
      // The run is saved as finished just before its lock is released.
      await eventually(async () => (await h.services.runs.lockHolder(NAME)) === undefined);
      const audit = await h.services.audit.recent({ runId: id, limit: 50 });
      expect(audit.find((a) => a.action === 'run.finished')?.outcome).toBe('failed');
    });
  });

  describe('between creating the key and storing it', () => {
    it('revokes the key whose value was lost and generates a fresh one', async () => {
      // Vault swallows the write: the worker is stuck retrying store-new when it is killed.
      h.world.vault.faults.add({ method: 'POST', path: '/v1/secret/data/', latencyMs: 300, drop: true });
      const first = spawnWorker(h.env);
      const { id } = await h.services.service.start({
        credential: NAME,
        requester: { kind: 'cli', id: 'alice' },
      });
      const stuck = await h.waitForRun(
        id,
        (r) => r.steps.some((s) => s.name === 'store-new' && s.status === 'running'),
        30_000,
      );
      const lostKey = stuck.facts.newKeyId!;
      await kill(first.child);
      childLogs.push(first.output());
      h.world.vault.faults.clear();

      await startReplacement();
      const run = await h.waitForRun(id, undefined, 30_000);

      expect(run.outcome).toBe('succeeded');
      expect(run.facts.orphansRevoked).toEqual([lostKey]);
      expect(run.facts.newKeyId).not.toBe(lostKey);
      const keys = rotatorKeys();
      expect(keys.filter((k) => k.status === 'active').map((k) => k.id)).toEqual([run.facts.newKeyId]);
      expect(keys.find((k) => k.id === lostKey)?.status).toBe('revoked');
      expect(h.world.vault.current(PATH)!.data.api_key_id).toBe(run.facts.newKeyId);
    });
  });
});
