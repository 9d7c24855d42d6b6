import { randomBytes } from 'node:crypto';
import type { Run } from '../../src/domain/run';
import type { StepContext } from '../../src/procedures/context';
import { generate } from '../../src/procedures/steps/generate';
import { loginWorks, openSession, type DatabaseKind } from '../../sandbox/databases/logins';
import { demoDatabaseCredentials } from '../../sandbox/databases/seed';
import { startHarness, type Harness } from '../helpers/harness';
import { closeAndFindLeaks } from '../helpers/leaks';

type Strategy = 'single_user' | 'alternating_users';

const CASES: Array<[DatabaseKind, Strategy]> = [
  ['postgres', 'single_user'],
  ['mariadb', 'alternating_users'],
  ['postgres', 'alternating_users'],
  ['mariadb', 'single_user'],
];
const NAME = 'orders-db';
const PATH = `database-credentials/${NAME}`;

/** The demo's orders-db entry, on `kind` with `strategy` and logins no other test uses. */
function entry(
  kind: DatabaseKind,
  strategy: Strategy,
  users: string[],
  more: Record<string, unknown> = {},
): Record<string, unknown> {
  const base = demoDatabaseCredentials().find((c) => c['name'] === NAME)!;
  const issuer = base['issuer'] as Record<string, unknown>;
  return { ...base, issuer: { ...issuer, kind, strategy, users, ...more } };
}

describe.each(CASES)('a %s %s credential rotated through the engine', (kind, strategy) => {
  let h: Harness;
  let users: string[];
  const id = randomBytes(4).toString('hex');
  /** Passwords the store never held (a crashed worker's): searched for leaks too. */
  const unstored: string[] = [];

  const start = async (worker = true, issuer: Record<string, unknown> = {}) => {
    users = strategy === 'single_user' ? [`orders_${id}`] : [`orders_a_${id}`, `orders_b_${id}`];
    h = await startHarness({
      worker,
      editCatalog: (c) => c.credentials.push(entry(kind, strategy, users, issuer) as never),
    });
  };
  /** Every password the store ever held for the credential: none may appear in Redis, logs, audit or Slack. */
  const passwords = async (): Promise<string[]> => {
    const out: string[] = [];
    for (let v = 1; v <= h.world.vault.versions(PATH); v++) {
      const version = await h.services.store.read(PATH, v);
      for (const s of [version?.value, version?.previousValue]) if (s) out.push(s.reveal());
    }
    return out;
  };
  const current = async () => (await h.services.store.read(PATH))!;
  const rotate = async () =>
    (await h.services.service.start({ credential: NAME, requester: { kind: 'cli', id: 'alice' } })).id;

  afterEach(async () => {
    const secrets = [...(await passwords()), ...unstored.splice(0)];
    expect(await closeAndFindLeaks(h, [], secrets)).toEqual([]);
  });

  it('rotates: the consumer holds the new password and logs in, the old login is refused', async () => {
    await start();
    const before = await current();
    const runId = await rotate();
    const run = await h.waitForRun(runId, undefined, 60_000);

    expect(run.outcome).toBe('succeeded');
    const after = await current();
    const user = strategy === 'single_user' ? users[0]! : users[1]!;
    expect(after.username).toBe(user);
    expect(after.previousValue).toBeUndefined(); // recorded: previous cleared
    expect(h.world.consumerValue(NAME, 'orders-api')).toBe(after.value!.reveal());
    expect(await loginWorks(kind, user, after.value!.reveal())).toBe(true);
    // Revocation proven by a failed login: the old password (single) or the locked old user (alternating).
    expect(await loginWorks(kind, before.username!, before.value!.reveal())).toBe(false);
    expect(run.steps.find((s) => s.name === 'revoke-old')?.detail).toContain('revoked and rejected');
  });

  it('rolls back when verification fails: the old login works again and the new one is refused', async () => {
    await start();
    const before = await current();
    const app = h.world.apps.get(NAME)!;
    app.forceUnhealthy('orders-api', true);
    const runId = await rotate();
    await h.waitForRun(
      runId,
      (r) => r.steps.some((s) => s.name === 'restore-previous' && s.status === 'done'),
      60_000,
    );
    app.forceUnhealthy('orders-api', false);
    const run = await h.waitForRun(runId, undefined, 60_000);

    expect(run.outcome).toBe('rolled_back');
    const after = await current();
    expect(after.value!.reveal()).toBe(before.value!.reveal());
    expect(after.username).toBe(before.username);
    expect(h.world.consumerValue(NAME, 'orders-api')).toBe(before.value!.reveal());
    expect(await loginWorks(kind, before.username!, before.value!.reveal())).toBe(true);
    const newPassword = (await passwords()).find((p) => p !== before.value!.reveal())!;
    for (const u of users) expect(await loginWorks(kind, u, newPassword)).toBe(false);
  });

  it('leaves no orphan when the worker dies between creating the password and storing it', async () => {
    await start(false);
    const before = await current();
    const runId = await rotate();
    // The first worker: check-dependencies' facts, then generate, then it dies (its memory is lost).
    const { engine, issuerFor } = await h.services.worker();
    const run = (await h.services.runs.get(runId))!;
    run.facts.baseVersion = before.version;
    run.facts.oldKeyId = before.keyId!;
    const ctx: StepContext = {
      run,
      spec: h.services.config.catalog.credentials.get(NAME)!,
      deps: { store: h.services.store } as StepContext['deps'],
      issuer: issuerFor(h.services.config.catalog.credentials.get(NAME)!),
      scratch: {},
      now: () => new Date(),
      checkpoint: () => h.services.runs.save(run),
    };
    await generate(ctx);
    const lost = ctx.scratch.newValue!.reveal();
    unstored.push(lost);
    for (const s of run.steps)
      if (s.name === 'check-dependencies' || s.name === 'generate') s.status = 'done';
    await h.services.runs.save(run);

    // Another worker picks the run up.
    let finished: Run | undefined;
    for (let job = 0; job < 200 && !finished; job++) {
      const result = await engine.advance(runId);
      if (result.kind === 'finished') finished = result.run;
      else await new Promise((r) => setTimeout(r, result.delayMs));
    }

    expect(finished?.outcome).toBe('succeeded');
    expect(finished?.facts.orphansRevoked?.length).toBeGreaterThan(0);
    const after = await current();
    // Only the stored password logs in: the lost one works for no login of the credential.
    expect(await loginWorks(kind, after.username!, after.value!.reveal())).toBe(true);
    for (const u of users) expect(await loginWorks(kind, u, lost)).toBe(false);
  });

  if (strategy === 'alternating_users') {
    const revokeStep = (r: Run) => r.steps.find((s) => s.name === 'revoke-old');

    it('waits while a connection is open on the old user, and locks it once the pool has drained', async () => {
      await start(true, { drainTimeoutSeconds: 1_800 });
      const before = await current();
      const pool = await openSession(kind, before.username!, before.value!.reveal());
      let runId: string;
      try {
        runId = await rotate();
        const waiting = await h.waitForRun(
          runId,
          (r) =>
            revokeStep(r)?.status === 'waiting' && /for the pools to drain/.test(revokeStep(r)?.detail ?? ''),
        );
        expect(revokeStep(waiting)?.detail).toMatch(/^1 connection\(s\) still open as old login /);
        // Still waiting: the old login was not locked under the open connection.
        expect(await loginWorks(kind, before.username!, before.value!.reveal())).toBe(true);
      } finally {
        await pool.close();
      }

      const run = await h.waitForRun(runId, undefined, 60_000);

      expect(run.outcome).toBe('succeeded');
      expect(await loginWorks(kind, before.username!, before.value!.reveal())).toBe(false);
      const after = await current();
      expect(await loginWorks(kind, after.username!, after.value!.reveal())).toBe(true);
    });

    it('refuses to lock the old user when a connection is still open after the drain timeout, and says to drain the pool', async () => {
      await start(true, { drainTimeoutSeconds: 0 });
      const before = await current();
      const pool = await openSession(kind, before.username!, before.value!.reveal());
      try {
        const run = await h.waitForRun(await rotate(), undefined, 60_000);

        expect(run.outcome).toBe('refused');
        expect(run.failure?.message).toMatch(
          /1 connection\(s\) still open as old login .*drain their connection pool/,
        );
        expect(await loginWorks(kind, before.username!, before.value!.reveal())).toBe(true);
      } finally {
        await pool.close();
      }
    });
  }
});
