import { randomBytes } from 'node:crypto';
import type { Worker } from 'bullmq';
import type { Run } from '../../src/domain/run';
import { rotationJobId } from '../../src/queue/names';
import { MANUAL_REVOKED_ACTION, MANUAL_STORED_ACTION } from '../../src/slack/views';
import { eventually } from '../helpers/eventually';
import { replacementWorkers, startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';
import { blockActionBody, postSigned } from '../helpers/slack-signing';

const NAME = 'partner-portal-key';
const PATH = 'api-credentials/partner-portal-key';
const CHANNEL = 'C_PARTNERS';

describe('a guided manual rotation', () => {
  let h: Harness;
  const replacement: Worker[] = [];
  beforeEach(async () => {
    h = await startHarness({ settings: { manualReminderMs: 60_000 } });
  });
  afterEach(async () => {
    await Promise.allSettled(replacement.splice(0).map((w) => w.close()));
    expect(await closeAndFindLeaks(h)).toEqual([]);
  });

  const waitingFor = (action: 'stored' | 'revoked') => (r: Run) =>
    r.manual?.awaiting === action &&
    r.steps.some((s) => s.name === `await-${action}` && s.status === 'waiting');
  /** The bot's latest rendering of the run's progress message in the channel. */
  const progressText = async (run: Run) => {
    const at = await h.services.runProgress.message(run.id);
    const m = h.world.slack.messages(CHANNEL).find((x) => x.ts === at?.ts);
    return JSON.stringify(m?.blocks ?? []);
  };
  const click = (actionId: string, runId: string, user: string) =>
    postSigned(
      h.slackEndpoint,
      h.env.SLACK_SIGNING_SECRET!,
      blockActionBody({
        actionId,
        value: runId,
        user,
        channel: CHANNEL,
        messageTs: '1.000',
        responseUrl: h.world.slack.responseUrl(`act-${user}`),
      }),
    );
  const ephemerals = (user: string) =>
    h.world.slack
      .calls()
      .filter((c) => c.method === 'chat.postEphemeral' && c.args.user === user)
      .map((c) => String(c.args.text));
  /** What the person does by hand: a key at the console, written to Vault with the thread's command. */
  async function storeByHand(value: string, cas: number, atConsole = true): Promise<void> {
    if (atConsole) h.world.provider.seedKey({ name: 'made at the console', value });
    const res = await fetch(`${h.world.vault.url}/v1/secret/data/${PATH}`, {
      method: 'POST',
      headers: { 'x-vault-token': h.env.VAULT_TOKEN!, 'content-type': 'application/json' },
      body: JSON.stringify({ options: { cas }, data: { api_key: value, rotated_by: 'dana' } }),
    });
    expect(res.status).toBe(200);
  }

  it('parks across a worker restart, refuses Stored until Vault has a new version, then deploys, verifies and records', async () => {
    const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
    const base = h.world.vault.versions(PATH);
    const started = await h.services.service.start({
      credential: NAME,
      requester: { kind: 'slack', id: 'U0ALICE' },
      approver: { kind: 'slack', id: 'U0BOB' },
    });
    let run = await h.waitForRun(started.id, waitingFor('stored'));
    // The ask in Slack: the console steps, the exact command with a placeholder, a Stored button.
    const asked = await eventually(async () => {
      const text = await progressText(run);
      return text.includes(MANUAL_STORED_ACTION) ? text : undefined;
    });
    expect(asked).toContain('Create a new API key');
    const command = `vault kv put -cas=${base} secret/${PATH} api_key="$NEW_API_KEY"`;
    expect(asked).toContain(JSON.stringify(command).slice(1, -1));
    // Parked: the job is delayed, no worker holds it.
    expect(await (await h.services.queue.getJob(rotationJobId(run.id)))!.isDelayed()).toBe(true);

    // The worker process goes away and another comes up: the parked run is still there.
    await Promise.all(h.workers.map((w) => w.close()));
    replacement.push(...(await replacementWorkers(h)));

    // Stored before anything was written: refused, and the run does not move.
    expect((await click(MANUAL_STORED_ACTION, run.id, 'U0BOB')).status).toBe(200);
    await eventually(() => ephemerals('U0BOB').find((t) => t.startsWith('Refused')));
    expect(ephemerals('U0BOB')[0]).toContain('has no new version');
    run = (await h.services.runs.get(run.id))!;
    expect(run.steps.find((s) => s.name === 'deploy')?.status).toBe('pending');
    expect(h.world.vault.versions(PATH)).toBe(base);

    // A new version holding the old value again is not a new key: the run refuses it itself.
    await storeByHand(oldValue, base, false);
    await click(MANUAL_STORED_ACTION, run.id, 'U0BOB');
    run = await h.waitForRun(run.id, (r) => r.manual?.refusal?.includes('has no new value') === true);
    expect(run.steps.find((s) => s.name === 'deploy')?.status).toBe('pending');

    // The new value is one the provider issued, so the leak check looks for it everywhere the bot writes.
    const newValue = `pk_live_${randomBytes(20).toString('hex')}`;
    await storeByHand(newValue, base + 1);
    // Someone not on the run may not click.
    await click(MANUAL_STORED_ACTION, run.id, 'U0MALLORY');
    await eventually(() => ephemerals('U0MALLORY').find((t) => t.startsWith('Refused')));

    expect((await click(MANUAL_STORED_ACTION, run.id, 'U0BOB')).status).toBe(200);
    run = await h.waitForRun(run.id, waitingFor('revoked'));
    expect(h.world.consumerValue(NAME, 'partner-sync')).toBe(newValue);
    const current = h.world.vault.current(PATH)!;
    expect(current.data.api_key).toBe(newValue);
    expect(current.data.previous_key).toBe(oldValue); // rollback stays possible until the old key is revoked
    expect(current.data.rotated_by).toBe('slack:U0BOB');

    // Revoked clicked while the console still has the old key: the test URL accepts it, so it is refused.
    await click(MANUAL_REVOKED_ACTION, run.id, 'U0ALICE');
    run = await h.waitForRun(
      run.id,
      (r) => r.manual?.refusal?.includes('still accepts the old key') === true,
    );
    expect(run.steps.find((s) => s.name === 'record')?.status).toBe('pending');

    // Revoked at the console, then clicked: the test URL rejects the old key.
    const del = await fetch(`${h.world.provider.url}/v1/api-keys/${h.world.seededKeyIds.get(NAME)!}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${h.env.PAYMENT_PROVIDER_ADMIN_TOKEN!}` },
    });
    expect(del.status).toBe(204);
    await click(MANUAL_REVOKED_ACTION, run.id, 'U0ALICE');
    run = await h.waitForRun(run.id);

    expect(run.outcome).toBe('succeeded');
    expect(run.steps.map((s) => [s.name, s.status])).toEqual([
      ['check-dependencies', 'done'],
      ['await-stored', 'done'],
      ['deploy', 'done'],
      ['verify', 'done'],
      ['await-revoked', 'done'],
      ['record', 'done'],
      ['notify', 'done'],
    ]);
    expect(h.world.vault.current(PATH)!.data.previous_key).toBe('');
    expect(h.world.provider.accepts(oldValue)).toBe(false);
    const audit = await h.services.audit.recent({ runId: run.id, limit: 200 });
    expect(
      audit.filter((a) => a.action.startsWith('manual.')).map((a) => [a.action, a.outcome, a.identity]),
    ).toEqual(
      expect.arrayContaining([
        ['manual.stored', 'refused', 'slack:U0BOB'],
        ['manual.stored.clicked', 'info', 'slack:U0BOB'],
        ['manual.stored', 'refused', 'slack:U0MALLORY'],
        ['manual.stored', 'succeeded', 'slack:U0BOB'],
        ['manual.revoked', 'refused', 'slack:U0ALICE'],
        ['manual.revoked', 'succeeded', 'slack:U0ALICE'],
      ]),
    );
  });

  it('rolls back to the old key when the consumer fails on the new one, and says to delete it by hand', async () => {
    const oldValue = h.world.vault.current(PATH)!.data.api_key as string;
    const base = h.world.vault.versions(PATH);
    const app = h.world.apps.get(NAME)!;
    const started = await h.services.service.start({
      credential: NAME,
      requester: { kind: 'slack', id: 'U0ALICE' },
    });
    await h.waitForRun(started.id, waitingFor('stored'));
    app.forceUnhealthy('partner-sync', true);
    await storeByHand(`pk_live_${randomBytes(20).toString('hex')}`, base);
    await click(MANUAL_STORED_ACTION, started.id, 'U0ALICE');
    await h.waitForRun(started.id, (r) =>
      r.steps.some((s) => s.name === 'restore-previous' && s.status === 'done'),
    );
    app.forceUnhealthy('partner-sync', false);
    const run = await h.waitForRun(started.id);

    expect(run.outcome).toBe('rolled_back');
    expect(h.world.vault.current(PATH)!.data.api_key).toBe(oldValue);
    expect(h.world.consumerValue(NAME, 'partner-sync')).toBe(oldValue);
    expect(run.steps.find((s) => s.name === 'revoke-new')?.detail).toContain('delete the new key at');
  });
});
