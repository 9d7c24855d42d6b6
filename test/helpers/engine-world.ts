import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import pino from 'pino';
import type { CredentialSpec } from '../../src/domain/credential';
import { newRun, type Run } from '../../src/domain/run';
import type { Secret } from '../../src/domain/secret';
import {
  DEFAULT_SETTINGS,
  type EngineDeps,
  type EngineSettings,
  type StepContext,
} from '../../src/procedures/context';
import { RotationEngine } from '../../src/procedures/engine';
import { RunStore } from '../../src/queue/run-store';
import {
  FakeAuditLog,
  FakeChatNotifier,
  FakeClock,
  FakeDeployer,
  FakeHealthChecker,
  FakeIssuer,
  FakeSecretStore,
} from './fakes';
import { specFixture } from './fixtures';
import { deletePrefix } from './redis';

const DAY_MS = 86_400_000;

/**
 * The engine on real Redis (its RunStore, under a prefix of its own) and fakes of every other
 * port, seeded with one credential whose current key was stored 60 days ago.
 */
export interface EngineWorld {
  prefix: string;
  clock: FakeClock;
  store: FakeSecretStore;
  issuer: FakeIssuer;
  deployer: FakeDeployer;
  health: FakeHealthChecker;
  audit: FakeAuditLog;
  chat: FakeChatNotifier;
  runs: RunStore;
  spec: CredentialSpec;
  settings: EngineSettings;
  deps: EngineDeps;
  engine: RotationEngine;
  /** The key in service before the rotation. */
  oldKey: { keyId: string; value: Secret };
  /** A new run for the credential, saved (not locked: the engine takes the lock). */
  newRun(): Promise<Run>;
  /**
   * Advances the run job by job, moving the clock by each wait's delay, until it finishes or
   * `until` holds for the stored run. Returns the stored run. A job that throws rejects.
   */
  drive(runId: string, until?: (run: Run) => boolean): Promise<Run>;
  close(): Promise<void>;
}

export async function engineWorld(
  redis: Redis,
  opts: { settings?: Partial<EngineSettings>; spec?: CredentialSpec } = {},
): Promise<EngineWorld> {
  const prefix = `test-${randomUUID()}`;
  const clock = new FakeClock();
  const store = new FakeSecretStore(clock);
  const issuer = new FakeIssuer(clock);
  const spec = opts.spec ?? specFixture();
  const deployer = FakeDeployer.matching(spec);
  const health = new FakeHealthChecker();
  const audit = new FakeAuditLog(clock);
  const chat = new FakeChatNotifier();
  const runs = new RunStore(redis, prefix);
  const settings = { ...DEFAULT_SETTINGS, ...opts.settings };
  const deps: EngineDeps = {
    runs,
    catalog: new Map([[spec.name, spec]]),
    store,
    issuerFor: () => issuer,
    deployer,
    health,
    audit,
    chat,
    clock,
    logger: pino({ level: 'silent' }),
    settings,
  };
  const engine = new RotationEngine(deps);

  const oldKey = issuer.issue(`manual/${spec.name}`);
  await store.write(
    spec.store,
    {
      value: oldKey.value,
      keyId: oldKey.keyId,
      rotatedAt: new Date(clock.now().getTime() - 60 * DAY_MS).toISOString(),
      rotatedBy: 'seed',
    },
    0,
  );

  const world: EngineWorld = {
    prefix,
    clock,
    store,
    issuer,
    deployer,
    health,
    audit,
    chat,
    runs,
    spec,
    settings,
    deps,
    engine,
    oldKey,
    async newRun() {
      const run = newRun({
        id: randomUUID(),
        credential: spec.name,
        requester: { kind: 'cli', id: 'alice', name: 'alice' },
        now: clock.now(),
      });
      await runs.save(run);
      return run;
    },
    async drive(runId, until = () => false) {
      for (let job = 0; job < 500; job++) {
        const result = await engine.advance(runId);
        const stored = (await runs.get(runId))!;
        if (result.kind === 'finished' || until(stored)) return stored;
        clock.advance(result.delayMs);
      }
      throw new Error(`run ${runId} did not finish within 500 jobs`);
    },
    close: () => deletePrefix(redis, prefix),
  };
  return world;
}

export const stepStatus = (run: Run, name: string): string | undefined =>
  run.steps.find((s) => s.name === name)?.status;

/** What the engine hands a step, for calling one step directly. */
export function stepContext(w: EngineWorld, run: Run): StepContext {
  return {
    run,
    spec: w.spec,
    deps: w.deps,
    issuer: w.issuer,
    scratch: {},
    now: () => w.clock.now(),
    checkpoint: () => w.runs.save(run),
  };
}

/** What every outcome must keep: the key the store serves is active at the issuer and accepted. */
export async function servedKeyWorks(w: EngineWorld): Promise<boolean> {
  const current = w.store.current(w.spec.store);
  if (!current?.value || !current.keyId) return false;
  return w.issuer.statusOf(current.keyId) === 'active' && (await w.issuer.accepts(current.value));
}
