import { loadConfig } from '../../src/config';
import { createLogger } from '../../src/logger';
import { startRole, type Running } from '../../src/main';
import { RESUME_ACTION, ROLLBACK_ACTION } from '../../src/slack/views';
import { FAST_SETTINGS, startHarness, type Harness } from '../helpers/harness';
import { findLeaks } from '../helpers/leaks';
import { deletePrefix } from '../helpers/redis';
import { eventually } from '../helpers/eventually';

const NAME = 'payment-gateway-api';
const PATH = 'api-credentials/payment-gateway-api';
const alice = { kind: 'cli' as const, id: 'alice', name: 'alice' };

type Blocks = Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;

/**
 * Redis is a cache of progress; Vault is the truth. These tests lose Redis in the middle of a
 * rotation and expect the bot to find the half-rotated credential from Vault alone.
 */
describe('the reconciler', () => {
  let h: Harness;
  let worker: Running | undefined;
  const startWorker = () =>
    startRole('worker', loadConfig(h.env), createLogger('debug', h.logs), { settings: FAST_SETTINGS });

  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    const leaks = await findLeaks(h).finally(() => h.close());
    expect(leaks).toEqual([]);
  });

  const approver = () => h.world.catalog.credentials.find((c) => c.name === NAME)!.approvers as string[];
  const reports = (channel: string) =>
    h.world.slack
      .calls()
      .filter((c) => c.method === 'chat.postMessage' && c.args.channel === channel)
      .filter((c) => JSON.stringify(c.args.blocks ?? []).includes(RESUME_ACTION));
  const click = (actionId: string, value: string, user: string, channel: string, ts: string) =>
    h.click(actionId, value, user, channel, ts);

  /** A rotation whose Redis is wiped once Vault holds the new key and the deploy has begun. */
  async function loseRedisMidDeploy(): Promise<{ runId: string; oldValue: string; newKeyId: string }> {
    const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
    worker = await startWorker();
    const { id } = await h.services.service.start({ credential: NAME, requester: alice });
    const run = await h.waitForRun(id, (r) =>
      r.steps.some((s) => s.name === 'deploy' && s.status !== 'pending'),
    );
    await worker.stop();
    worker = undefined;
    await deletePrefix(h.redis, h.prefix); // every run, lock, job and audit record: gone
    expect(h.world.vault.current(PATH)!.data.previous_key).toBe(oldValue);
    return { runId: id, oldValue, newKeyId: run.facts.newKeyId! };
  }

  async function reportIn(channel: string): Promise<{ value: string; ts: string; blocks: Blocks }> {
    const call = await eventually(() => reports(channel)[0], 15_000);
    const blocks = call.args.blocks as Blocks;
    const value = blocks.flatMap((b) => b.elements ?? []).find((e) => e.action_id === RESUME_ACTION)!.value;
    const ts = await eventually(
      () => h.world.slack.messages(channel).find((m) => JSON.stringify(m.blocks).includes(RESUME_ACTION))?.ts,
    );
    return { value, ts, blocks };
  }

  describe('when Redis loses a run after Vault got the new key', () => {
    beforeEach(async () => {
      h = await startHarness({ worker: false, rolloutDelayMs: 2_000 });
    });

    it('reports it at start-up to the credential and security channels, and Resume finishes the rotation', async () => {
      const { runId, oldValue, newKeyId } = await loseRedisMidDeploy();
      worker = await startWorker();
      const report = await reportIn('C_PAYMENTS');
      await reportIn('C_SECURITY');
      const text = JSON.stringify(report.blocks);
      expect(text).toContain(runId);
      expect(text).toContain(newKeyId);
      expect(text).toMatch(/Redis no longer knows that run/);

      expect((await click(RESUME_ACTION, report.value, approver()[0]!, 'C_PAYMENTS', report.ts)).status).toBe(
        200,
      );
      const runs = await eventually(async () => {
        const [r] = await h.services.service.history(NAME);
        return r?.status === 'finished' ? [r] : undefined;
      }, 20_000);
      expect(runs[0]!.procedure).toBe('resume');
      expect(runs[0]!.outcome).toBe('succeeded');
      const current = h.world.vault.current(PATH)!;
      expect(current.data.api_key_id).toBe(newKeyId);
      expect(current.data.previous_key).toBe('');
      expect(h.world.provider.accepts(oldValue)).toBe(false);
      expect(h.world.provider.accepts(current.data.api_key as string)).toBe(true);
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).toBe(current.data.api_key);
      // The report's buttons are gone, and a second tick does not report it again.
      await eventually(() =>
        h.world.slack
          .messages('C_PAYMENTS')
          .find((m) => JSON.stringify(m.blocks).includes('Resume started by')),
      );
    });

    it('Roll back puts every consumer back on the old key and revokes the new one', async () => {
      const { oldValue, newKeyId } = await loseRedisMidDeploy();
      worker = await startWorker();
      const report = await reportIn('C_PAYMENTS');
      expect(
        (await click(ROLLBACK_ACTION, report.value, approver()[0]!, 'C_PAYMENTS', report.ts)).status,
      ).toBe(200);
      const [run] = await eventually(async () => {
        const [r] = await h.services.service.history(NAME);
        return r?.status === 'finished' ? [r] : undefined;
      }, 20_000);
      expect(run!.procedure).toBe('rollback');
      expect(run!.outcome).toBe('rolled_back');
      expect(h.world.vault.current(PATH)!.data.api_key).toBe(oldValue);
      expect(h.world.provider.accepts(oldValue)).toBe(true);
      expect(h.world.provider.keys().find((k) => k.id === newKeyId)?.status).toBe('revoked');
      for (const c of ['web-app', 'mobile-backend', 'batch-processor'])
        expect(h.world.consumerValue(NAME, c)).toBe(oldValue);
    });

    it('refuses a click from someone who is not an approver, and starts nothing', async () => {
      await loseRedisMidDeploy();
      worker = await startWorker();
      const report = await reportIn('C_PAYMENTS');
      expect((await click(RESUME_ACTION, report.value, 'UNOBODY1', 'C_PAYMENTS', report.ts)).status).toBe(
        200,
      );
      const refused = await eventually(async () =>
        (await h.services.audit.recent({ credential: NAME })).find((a) => a.action === 'recover.refused'),
      );
      expect(refused.identity).toBe('slack:UNOBODY1');
      expect(await h.services.service.history(NAME)).toEqual([]);
    });
  });

  describe('when a live run is rotating the credential', () => {
    beforeEach(async () => {
      h = await startHarness({ rolloutDelayMs: 1_500 });
    });

    it('reports nothing: the run owns the half-rotation', async () => {
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      await h.waitForRun(id, (r) => r.steps.some((s) => s.name === 'deploy' && s.status === 'waiting'));
      expect(h.world.vault.current(PATH)!.data.previous_key).not.toBe('');
      const tick = await h.services.maintenanceQueue.add('reconcile', {});
      await eventually(async () => (await tick.getState()) === 'completed', 10_000);
      expect(reports('C_PAYMENTS')).toEqual([]);
      expect(reports('C_SECURITY')).toEqual([]);
      expect((await h.waitForRun(id)).outcome).toBe('succeeded');
    });
  });

  describe('when a rotation succeeded but its record could not be written', () => {
    beforeEach(async () => {
      h = await startHarness();
    });

    it('clears previous_key itself on its next tick', async () => {
      h.world.vault.faults.add({
        method: 'PATCH',
        path: `/v1/secret/data/${PATH}`,
        status: 503,
        body: { errors: ['sealed'] },
      });
      const { id } = await h.services.service.start({ credential: NAME, requester: alice });
      expect((await h.waitForRun(id)).facts.recordPending).toBe(true);
      expect(h.world.vault.current(PATH)!.data.previous_key).not.toBe('');
      h.world.vault.faults.clear();

      await h.services.maintenanceQueue.add('reconcile', {});
      await eventually(() => h.world.vault.current(PATH)!.data.previous_key === '', 10_000);
      expect(h.world.vault.current(PATH)!.data.rotation_verified_at).toBeDefined();
      // Vault first, then the run record.
      await eventually(async () => (await h.services.runs.get(id))!.facts.recordPending === false);
      const audit = await h.services.audit.recent({ credential: NAME, limit: 500 });
      expect(audit.some((a) => a.action === 'reconcile.recorded')).toBe(true);
      // Nothing half-rotated was reported.
      expect(reports('C_PAYMENTS')).toEqual([]);
    });
  });
});
