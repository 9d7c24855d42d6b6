import type { CatalogFile } from '../../sandbox/world';
import { DELETE_OLD_KEY_JOB, deleteOldKeyJobId, REACTIVATE_OLD_KEY_JOB } from '../../src/queue/names';
import { eventually } from '../helpers/eventually';
import { startHarness, type Harness, type HarnessOptions } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

const NAME = 'integration-service-account';
const USER = 'integration-service-account';
const PATH = `api-credentials/${NAME}`;
const NS = 'ci';

/** Short IAM waits for the suite; everything else as shipped. */
function iamCatalog(settings: Record<string, unknown>) {
  return (catalog: CatalogFile) => {
    const cred = catalog.credentials.find((c) => c.name === NAME)!;
    Object.assign(cred.issuer, {
      quietWindowSeconds: 0,
      deleteAfterSeconds: 3600,
      newKeyConsistencySeconds: 0,
      ...settings,
    });
  };
}

const start = (h: Harness) =>
  h.services.service.start({ credential: NAME, requester: { kind: 'cli', id: 'alice', name: 'alice' } });

describe('AWS IAM access key rotation, end to end', () => {
  let h: Harness;
  const open = async (settings: Record<string, unknown> = {}, opts: HarnessOptions = {}) => {
    h = await startHarness({ editCatalog: iamCatalog(settings), ...opts });
    return h;
  };
  afterEach(async () => {
    const limitHits = h.world.iam.limitExceededCreates();
    expect(await closeAndFindLeaks(h)).toEqual([]);
    // Never a third key attempted, whatever the test did.
    expect(limitHits).toBe(0);
  });

  it('creates the second key, deploys and verifies it, deactivates the old one and deletes it after the grace period', async () => {
    await open({ deleteAfterSeconds: 2 });
    const oldKeyId = h.world.seededKeyIds.get(NAME)!;
    const oldSecret = h.world.vault.current(PATH)!.data.secret_access_key as string;

    const run = await h.waitForRun((await start(h)).id);

    expect(run.outcome).toBe('succeeded');
    expect(run.steps.every((s) => s.status === 'done')).toBe(true);
    const newKeyId = run.facts.newKeyId!;
    // IAM: the new key active, the old one deactivated (not deleted) until its grace period ends.
    const keys = h.world.iam.keys(USER);
    expect(keys.map((k) => [k.accessKeyId, k.status]).sort()).toEqual(
      [
        [newKeyId, 'Active'],
        [oldKeyId, 'Inactive'],
      ].sort(),
    );
    expect(h.world.iam.accepts(oldKeyId, oldSecret)).toBe(false);
    expect(run.facts.oldKeyDeactivatedAt).toEqual(expect.any(String));
    expect(run.facts.oldKeyDeleteAt).toEqual(expect.any(String));
    // Vault: the pair under AWS's names, previous cleared by the record step.
    const current = h.world.vault.current(PATH)!.data;
    expect(current.access_key_id).toBe(newKeyId);
    expect(current.secret_access_key).not.toBe(oldSecret);
    expect(current.previous_secret_access_key).toBe('');
    expect(current.rotation_verified_at).toEqual(expect.any(String));
    // Consumers: the startup one restarted onto the new pair; both healthy on it.
    expect(h.world.kubernetes.restarts(NS, 'artifact-uploader')).toBe(1);
    expect(h.world.kubernetes.secret(NS, 'integration-aws')?.AWS_ACCESS_KEY_ID).toBe(newKeyId);
    expect(h.world.iam.accepts(newKeyId, current.secret_access_key as string)).toBe(true);

    // The delayed job deletes the old key once the grace period is over; nothing else is touched.
    const deleted = await h.waitForRun(run.id, (r) => !!r.facts.oldKeyDeletedAt, 15_000);
    expect(h.world.iam.keys(USER).map((k) => k.accessKeyId)).toEqual([newKeyId]);
    const audit = await h.services.audit.recent({ runId: run.id, limit: 100 });
    expect(audit.find((a) => a.action === 'old_key.deleted')?.outcome).toBe('succeeded');
    expect(deleted.facts.oldKeyKept).toBeUndefined();
  });

  it('keeps the old key active when GetAccessKeyLastUsed shows it used after the deploy', async () => {
    await open({ quietWindowSeconds: 2 });
    const oldKeyId = h.world.seededKeyIds.get(NAME)!;
    const oldSecret = h.world.vault.current(PATH)!.data.secret_access_key as string;
    const { id } = await start(h);
    const deployed = await h.waitForRun(id, (r) =>
      r.steps.some((s) => s.name === 'deploy' && s.status === 'done'),
    );
    // A forgotten consumer still calls AWS with the old key after the new one was deployed. IAM
    // reports last use to the second, so the use lands in a later second than the deploy's (a
    // consumer that keeps using the key always does; one last call in that very second is not told
    // apart from the restarted consumers' own last calls).
    const deploySecond = Math.floor(Date.parse(deployed.facts.deployedAt!) / 1000);
    await eventually(() => Math.floor(Date.now() / 1000) > deploySecond);
    expect(h.world.iam.use(oldKeyId, oldSecret)).toBe(true);

    const run = await h.waitForRun(id);
    expect(run.outcome).not.toBe('succeeded');
    expect(run.steps.find((s) => s.name === 'revoke-old')?.status).toBe('failed');
    // Neither deactivated nor deleted: the consumer that still uses it keeps working.
    expect(h.world.iam.keys(USER).find((k) => k.accessKeyId === oldKeyId)?.status).toBe('Active');
    expect(h.world.iam.accepts(oldKeyId, oldSecret)).toBe(true);
    expect(h.world.iam.actions()).not.toContain('UpdateAccessKey');
    expect(h.world.iam.actions()).not.toContain('DeleteAccessKey');
  });

  it('retries verification while IAM does not accept the new key yet, within the catalog bound', async () => {
    await open({ newKeyConsistencySeconds: 20 });
    h.world.iam.newKeyDelayMs = 1_500;
    const run = await h.waitForRun((await start(h)).id);
    expect(run.outcome).toBe('succeeded');
    const waited = await h.services.audit.recent({ runId: run.id, limit: 100 });
    expect(waited.some((a) => a.action === 'step.completed' && a.step === 'verify')).toBe(true);
  });

  it('rolls back when the new key stays refused: new key deleted, old key active and served again', async () => {
    await open({ newKeyConsistencySeconds: 1 });
    const oldKeyId = h.world.seededKeyIds.get(NAME)!;
    const oldSecret = h.world.vault.current(PATH)!.data.secret_access_key as string;
    h.world.iam.newKeyDelayMs = 10 * 60_000;

    const run = await h.waitForRun((await start(h)).id, undefined, 30_000);

    expect(run.outcome).toBe('rolled_back');
    expect(run.failure?.step).toBe('verify');
    expect(h.world.iam.keys(USER).map((k) => [k.accessKeyId, k.status])).toEqual([[oldKeyId, 'Active']]);
    expect(h.world.iam.accepts(oldKeyId, oldSecret)).toBe(true);
    const current = h.world.vault.current(PATH)!.data;
    expect(current.access_key_id).toBe(oldKeyId);
    expect(current.secret_access_key).toBe(oldSecret);
  });

  describe('for a least-privilege user no policy allows iam:GetUser', () => {
    it("counts the probe's AccessDenied as an accepted key: rotates, and the deactivated old key is rejected", async () => {
      await open();
      h.world.iam.allowGetUser(USER, false);
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;

      const run = await h.waitForRun((await start(h)).id);

      expect([run.outcome, run.failure?.message]).toEqual(['succeeded', undefined]);
      expect(h.world.iam.keys(USER).find((k) => k.accessKeyId === oldKeyId)?.status).toBe('Inactive');
      const current = h.world.vault.current(PATH)!.data;
      expect(current.access_key_id).toBe(run.facts.newKeyId);
    });

    it('still rolls back when IAM refuses the new key itself (InvalidClientTokenId)', async () => {
      await open({ newKeyConsistencySeconds: 1 });
      h.world.iam.allowGetUser(USER, false);
      h.world.iam.newKeyDelayMs = 10 * 60_000;
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;

      const run = await h.waitForRun((await start(h)).id, undefined, 30_000);

      expect([run.outcome, run.failure?.step]).toEqual(['rolled_back', 'verify']);
      expect(h.world.iam.keys(USER).map((k) => [k.accessKeyId, k.status])).toEqual([[oldKeyId, 'Active']]);
    });
  });

  describe('when the user already has two keys', () => {
    it('says so in the plan and refuses, creating nothing', async () => {
      await open();
      h.world.iam.seedKey(USER); // someone's second key, active
      const plan = await h.services.service.plan(NAME);
      expect(plan.notices.join('\n')).toMatch(/the run will refuse — 2 of 2 keys exist/);
      expect(plan.notices.join('\n')).toMatch(/Quiet window 0 s/);

      const run = await h.waitForRun((await start(h)).id);
      expect(run.outcome).toBe('refused');
      expect(run.failure?.code).toBe('key_limit');
      expect(h.world.iam.keys(USER)).toHaveLength(2);
      expect(h.world.iam.actions()).not.toContain('CreateAccessKey');
    });

    it('deletes an inactive key that no run created, when the catalog allows it, and rotates', async () => {
      await open({ deleteForeignInactiveKey: true });
      const foreign = h.world.iam.seedKey(USER);
      h.world.iam.setStatus(foreign.accessKeyId, 'Inactive');
      const plan = await h.services.service.plan(NAME);
      expect(plan.notices.join('\n')).toContain(
        `inactive key ${foreign.accessKeyId}, which no rotation created, is deleted first`,
      );

      const run = await h.waitForRun((await start(h)).id);
      expect(run.outcome).toBe('succeeded');
      expect(h.world.iam.keys(USER).map((k) => k.accessKeyId)).not.toContain(foreign.accessKeyId);
    });
  });

  describe('after a crash between "created at IAM" and "stored in Vault"', () => {
    it('deletes the orphaned key before creating another: no orphan, never a third key', async () => {
      await open({}, { worker: false });
      const run = await start(h);
      const spec = h.services.service.spec(NAME);
      // What the dead worker left: check-dependencies done, a key created and labelled, not stored.
      const { engine, issuerFor } = await h.services.worker();
      const orphan = await issuerFor(spec).create(`rotator/${NAME}/${run.id}`);
      const stored = (await h.services.runs.get(run.id))!;
      stored.steps[0]!.status = 'done';
      stored.facts.baseVersion = h.world.vault.current(PATH)!.version;
      stored.facts.oldKeyId = h.world.seededKeyIds.get(NAME)!;
      stored.steps[1]!.status = 'running';
      stored.steps[1]!.startedAt = new Date().toISOString();
      await h.services.runs.save(stored);

      let result = await engine.advance(run.id);
      for (let i = 0; result.kind === 'wait' && i < 200; i++) {
        await new Promise((r) => setTimeout(r, result.kind === 'wait' ? Math.min(result.delayMs, 200) : 0));
        result = await engine.advance(run.id);
      }
      expect([result.run.outcome, result.run.failure?.message]).toEqual(['succeeded', undefined]);
      expect(result.run.facts.orphansRevoked).toContain(orphan.keyId);
      const ids = h.world.iam.keys(USER).map((k) => k.accessKeyId);
      expect(ids).not.toContain(orphan.keyId);
      expect(ids).toHaveLength(2); // the new key, and the old one deactivated
      expect(h.world.iam.actions().filter((a) => a === 'CreateAccessKey')).toHaveLength(2);
    });
  });

  describe('during the grace period', () => {
    it('refuses the next rotation while an approver keeps a reactivated old key of ours active, and deletes nothing', async () => {
      await open();
      // Run 1 retires the seeded key; its deletion runs at once, so run 2's old key is one of ours.
      const first = await h.waitForRun((await start(h)).id);
      const job = await h.services.maintenanceQueue.getJob(deleteOldKeyJobId(first.id));
      await job!.promote();
      await h.waitForRun(first.id, (r) => !!r.facts.oldKeyDeletedAt, 15_000);
      const second = await h.waitForRun((await start(h)).id);
      expect(second.outcome).toBe('succeeded');
      const ours = second.facts.oldKeyId!;
      expect(ours).toBe(first.facts.newKeyId);
      await h.services.maintenanceQueue.add(REACTIVATE_OLD_KEY_JOB, {
        runId: second.id,
        identity: 'slack:U0BOB',
      });
      await h.waitForRun(second.id, (r) => !!r.facts.oldKeyReactivated);

      const third = await h.waitForRun((await start(h)).id);

      expect([third.outcome, third.failure?.code]).toEqual(['refused', 'old_key_in_use']);
      expect(third.failure?.message).toContain(
        `old key ${ours}, deactivated by run ${second.id}, is active again`,
      );
      expect(
        h.world.iam
          .keys(USER)
          .map((k) => [k.accessKeyId, k.status])
          .sort(),
      ).toEqual(
        [
          [second.facts.newKeyId!, 'Active'],
          [ours, 'Active'],
        ].sort(),
      );
    });

    it('never takes the deactivated old key for a foreign inactive one, even where the catalog allows deleting those', async () => {
      await open({ deleteForeignInactiveKey: true });
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      const first = await h.waitForRun((await start(h)).id);
      expect(first.outcome).toBe('succeeded');

      const plan = await h.services.service.plan(NAME);
      expect(plan.notices.join('\n')).toContain(
        `key ${oldKeyId}, deactivated by an earlier rotation, awaits its deletion`,
      );
      const second = await h.waitForRun((await start(h)).id);

      expect([second.outcome, second.failure?.code]).toEqual(['refused', 'key_limit']);
      expect(
        h.world.iam
          .keys(USER)
          .map((k) => [k.accessKeyId, k.status])
          .sort(),
      ).toEqual(
        [
          [first.facts.newKeyId!, 'Active'],
          [oldKeyId, 'Inactive'],
        ].sort(),
      );
      expect(h.world.iam.actions().filter((a) => a === 'DeleteAccessKey')).toHaveLength(0);
    });

    it('an emergency deletes the deactivated old key to make room: the compromised key revoked, the new key works', async () => {
      await open();
      const retiredId = h.world.seededKeyIds.get(NAME)!;
      const first = await h.waitForRun((await start(h)).id);
      expect(first.outcome).toBe('succeeded');
      const compromisedId = first.facts.newKeyId!;
      const compromised = h.world.vault.current(PATH)!.data.secret_access_key as string;
      // kubectl's restartedAt has second precision: a restart in the same second as run 1's rolls nothing out.
      const restartedIn = first.facts.deployedAt!.slice(0, 19);
      await eventually(() => new Date().toISOString().slice(0, 19) > restartedIn || undefined);

      const { started } = await h.services.service.startEmergency({
        credentials: [NAME],
        incident: { ref: 'INC-2026-0011', channel: 'C_INC_2026_0011' },
        requester: { kind: 'slack', id: 'U0ERIN' },
      });
      const run = await h.waitForRun(started[0]!.id, undefined, 30_000);

      expect([run.outcome, run.failure?.message]).toEqual(['succeeded', undefined]);
      const current = h.world.vault.current(PATH)!.data;
      expect(current.access_key_id).toBe(run.facts.newKeyId);
      expect(h.world.iam.accepts(current.access_key_id as string, current.secret_access_key as string)).toBe(
        true,
      );
      expect(h.world.iam.accepts(compromisedId, compromised)).toBe(false);
      expect(h.world.iam.keys(USER).map((k) => [k.accessKeyId, k.status])).toEqual([
        [run.facts.newKeyId, 'Active'],
      ]);
      // The retired key's own run says it is gone, so its delayed job does nothing more.
      const retiredBy = (await h.services.runs.get(first.id))!;
      expect(retiredBy.facts.oldKeyDeletedAt).toEqual(expect.any(String));
      const audit = await h.services.audit.recent({ runId: first.id, limit: 100 });
      expect(audit.find((a) => a.action === 'old_key.deleted')?.detail).toContain(
        `old key ${retiredId} deleted`,
      );
    });

    it('the delayed deletion keeps an old key that Vault serves again, reading Vault right before deleting', async () => {
      await open();
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      const before = h.world.vault.current(PATH)!.data;
      const run = await h.waitForRun((await start(h)).id);
      expect(run.outcome).toBe('succeeded');
      // Someone puts the old pair back into Vault by hand during the grace period.
      h.world.vault.seed(PATH, {
        ...h.world.vault.current(PATH)!.data,
        access_key_id: oldKeyId,
        secret_access_key: before.secret_access_key,
      });

      const job = await h.services.maintenanceQueue.getJob(deleteOldKeyJobId(run.id));
      await job!.promote();
      await eventually(async () => (await job!.isCompleted()) || undefined);

      expect(h.world.iam.keys(USER).map((k) => k.accessKeyId)).toContain(oldKeyId);
      const after = (await h.services.runs.get(run.id))!;
      expect(after.facts.oldKeyDeletedAt).toBeUndefined();
      expect(after.facts.oldKeyKept).toContain(
        `old key ${oldKeyId} is served again from secret/${PATH} (current key)`,
      );
    });

    it('shows the pending deletion in /rotate status, reactivates the old key for an approver only, and calls the deletion off', async () => {
      const { blockActionBody, postSigned, slashCommandBody } = await import('../helpers/slack-signing');
      const { REACTIVATE_OLD_KEY_ACTION } = await import('../../src/slack/views');
      await open();
      const oldKeyId = h.world.seededKeyIds.get(NAME)!;
      const run = await h.waitForRun((await start(h)).id);
      expect(run.outcome).toBe('succeeded');

      await postSigned(
        h.slackEndpoint,
        h.env.SLACK_SIGNING_SECRET!,
        slashCommandBody({
          text: `status ${NAME}`,
          user: 'U0ALICE',
          responseUrl: h.world.slack.responseUrl('st'),
        }),
      );
      const status = await eventually(() => h.world.slack.calls().find((c) => c.responseUrlId === 'st'));
      const text = JSON.stringify(status.args);
      expect(text).toContain(`Old key \`${oldKeyId}\` is *inactive*`);
      expect(text).toContain(REACTIVATE_OLD_KEY_ACTION);

      const click = (user: string) =>
        postSigned(
          h.slackEndpoint,
          h.env.SLACK_SIGNING_SECRET!,
          blockActionBody({
            actionId: REACTIVATE_OLD_KEY_ACTION,
            value: run.id,
            user,
            messageTs: '1.0',
            responseUrl: h.world.slack.responseUrl(`re-${user}`),
          }),
        );
      // Not an approver: refused and audited, the key stays inactive.
      expect((await click('U0ALICE')).status).toBe(200);
      await eventually(async () =>
        (await h.services.audit.recent({ credential: NAME, limit: 50 })).find(
          (a) => a.action === 'old_key.reactivate' && a.outcome === 'refused',
        ),
      );
      expect(h.world.iam.keys(USER).find((k) => k.accessKeyId === oldKeyId)?.status).toBe('Inactive');

      // An approver: the maintenance job switches it back on and the deletion is called off.
      expect((await click('U0BOB')).status).toBe(200);
      const after = await h.waitForRun(run.id, (r) => !!r.facts.oldKeyReactivated);
      expect(after.facts.oldKeyReactivated?.by).toBe('slack:U0BOB');
      expect(h.world.iam.keys(USER).find((k) => k.accessKeyId === oldKeyId)?.status).toBe('Active');
      // The delayed deletion is gone; a deletion job that runs anyway finds the reactivation.
      expect(await h.services.maintenanceQueue.getJob(deleteOldKeyJobId(run.id))).toBeUndefined();
      const job = await h.services.maintenanceQueue.add(DELETE_OLD_KEY_JOB, { runId: run.id });
      await eventually(async () => (await job.isCompleted()) || undefined);
      expect(h.world.iam.keys(USER).map((k) => k.accessKeyId)).toContain(oldKeyId);
      expect((await h.services.runs.get(run.id))!.facts.oldKeyDeletedAt).toBeUndefined();
    });
  });
});
