import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import type { Logger } from 'pino';
import type { CredentialSpec } from '../domain/credential';
import { parseCredentialName } from '../domain/credential';
import { RotatorError, isRotatorError } from '../domain/errors';
import { discoveryScope } from '../domain/consumer-drift';
import { buildPlan, type Plan } from '../domain/plan';
import { emergencyDeadlineMs, type AgeAssessment } from '../domain/policy';
import type { DriftFinding, InventoryReport } from '../domain/inventory';
import { clusterDrift } from '../inventory/drift';
import { InventoryService, type Dashboard, type DueStatus } from '../inventory/inventory-service';
import { credentialAge } from '../inventory/row';
import type { EmergencyScope } from '../domain/incident';
import { mapLimit } from './bounded';
import type {
  AuditLog,
  ChatNotifier,
  Clock,
  Deployer,
  Issuer,
  SecretReferences,
  SecretStore,
  StoredCredential,
} from '../domain/ports';
import { newRun, type Identity, type Run } from '../domain/run';
import { rotationJobId, type RotationJobData } from '../queue/names';
import type { RunStore } from '../queue/run-store';
import { runHistory, type RunHistoryEntry } from './history';
import { keySlotNote } from './key-slot-note';
import type { RotationRequests } from './types';

export interface RotationServiceDeps {
  catalog: Map<string, CredentialSpec>;
  store: SecretStore;
  deployer: Deployer;
  runs: RunStore;
  queue: Queue<RotationJobData>;
  audit: AuditLog;
  clock: Clock;
  logger: Logger;
  lockTtlMs: number;
  dueSoonDays: number;
  /** What "immediate" means as a deadline for emergency escalation (api keys, OAuth, tokens). */
  immediateDeadlineMs?: number;
  /** Schedules the half-way and final deadline checks of an emergency run (delayed jobs). */
  scheduleDeadlines?: (run: Run, deadlineMs: number) => Promise<void>;
  /** Checks the channel a plan's summary goes to (Slack: conversations.info). */
  chat?: Pick<ChatNotifier, 'channelProblem'>;
  /** Deployments per Secret in one pass, for the inventory's drift (the Kubernetes deployer). */
  cluster?: SecretReferences;
  /** Vault reads in flight while the inventory is built (INVENTORY_CONCURRENCY, default 16). */
  inventoryConcurrency?: number;
  /**
   * Issuers with a key limit (IAM) are asked how many keys exist, so the plan can say; asynchronous,
   * so the web role loads the issuers only when it plans.
   */
  issuerFor?: (spec: CredentialSpec) => Issuer | Promise<Issuer>;
}

const idOf = (who: Identity) => `${who.kind}:${who.name ?? who.id}`;

/** Plans and enqueues rotations; the only way commands and the CLI reach the engine. */
export class RotationService implements RotationRequests {
  private readonly inventoryService: InventoryService;

  constructor(private readonly deps: RotationServiceDeps) {
    this.inventoryService = new InventoryService({
      catalog: deps.catalog,
      store: deps.store,
      runs: deps.runs,
      clock: deps.clock,
      dueSoonDays: deps.dueSoonDays,
      ...(deps.cluster ? { cluster: deps.cluster } : {}),
      ...(deps.inventoryConcurrency ? { concurrency: deps.inventoryConcurrency } : {}),
    });
  }

  credentialNames(): string[] {
    return [...this.deps.catalog.keys()].sort();
  }

  spec(name: string): CredentialSpec {
    const valid = parseCredentialName(name);
    const spec = this.deps.catalog.get(valid);
    if (!spec)
      throw new RotatorError('unknown_credential', `no credential named ${valid} in the catalog`, {
        context: { name: valid },
      });
    return spec;
  }

  async plan(name: string): Promise<Plan> {
    const spec = this.spec(name);
    const scope = discoveryScope(spec);
    const [stored, discovered, channelProblem] = await Promise.all([
      this.deps.store.read(spec.store),
      spec.kubernetesSecret && scope
        ? this.deps.deployer.discover(spec.kubernetesSecret, scope)
        : Promise.resolve(undefined),
      this.deps.chat?.channelProblem?.(spec.channel),
    ]);
    const issuer = await this.deps.issuerFor?.(spec);
    const slots = issuer ? await keySlotNote(spec, issuer, stored, this.deps.runs) : undefined;
    return buildPlan({
      spec,
      ...(slots ? { issuerNotes: [slots] } : {}),
      age: this.ageOf(spec, stored),
      ...(channelProblem ? { channelProblem } : {}),
      ...(discovered ? { discovered } : {}),
      ...(stored?.metadata?.consumers ? { storedConsumers: stored.metadata.consumers } : {}),
      ...(stored?.metadata?.issuer ? { storedIssuer: stored.metadata.issuer } : {}),
    });
  }

  async start(input: {
    credential: string;
    requester: Identity;
    approver?: Identity;
    slack?: Run['slack'];
  }): Promise<Run> {
    const spec = this.spec(input.credential);
    const manual = spec.issuer.kind === 'manual';
    // A manual run asks people in Slack: started from the CLI, it asks in the credential's channel.
    const slack = input.slack ?? (manual && spec.channel ? { channel: spec.channel } : undefined);
    const run = newRun({
      id: randomUUID(),
      credential: spec.name,
      requester: input.requester,
      ...(input.approver ? { approver: input.approver } : {}),
      ...(slack ? { slack } : {}),
      ...(manual ? { procedure: 'manual' as const } : {}),
      now: this.deps.clock.now(),
    });
    return this.enqueue(run, input.approver ? `approved by ${idOf(input.approver)}` : undefined);
  }

  /**
   * Finishes a half-rotated credential the reconciler reported, from what Vault holds now: `resume`
   * deploys, verifies and revokes the old key; `rollback` restores the previous version and revokes
   * the new key. Refused when Vault moved on since the report (`expectedVersion`).
   */
  async recover(input: {
    credential: string;
    mode: 'resume' | 'rollback';
    expectedVersion: number;
    requester: Identity;
    slack?: Run['slack'];
  }): Promise<Run> {
    const spec = this.spec(input.credential);
    const current = await this.deps.store.read(spec.store);
    if (!current?.previousValue || current.version !== input.expectedVersion) {
      throw new RotatorError(
        'store_conflict',
        `secret/${spec.store} changed since this report (now version ${current?.version ?? 'none'}${current?.previousValue ? '' : ', no previous key kept'}): nothing was started`,
      );
    }
    const baseVersion = await this.versionHolding(spec, current);
    if (input.mode === 'rollback' && baseVersion === undefined) {
      throw new RotatorError(
        'store_missing',
        `no earlier version of secret/${spec.store} holds key ${current.previousKeyId ?? '?'}: it cannot be rolled back from Vault`,
      );
    }
    const run = newRun({
      id: randomUUID(),
      credential: spec.name,
      requester: input.requester,
      approver: input.requester,
      procedure: input.mode,
      now: this.deps.clock.now(),
      ...(input.slack ? { slack: input.slack } : {}),
      facts: {
        ...(baseVersion !== undefined ? { baseVersion } : {}),
        ...(current.previousKeyId ? { oldKeyId: current.previousKeyId } : {}),
        ...(current.keyId ? { newKeyId: current.keyId } : {}),
        newVersion: current.version,
      },
    });
    return this.enqueue(run, `${input.mode} of secret/${spec.store} version ${current.version}`);
  }

  async emergencyScope(input: { credentials?: string[]; issuer?: string }): Promise<EmergencyScope> {
    const specs = [...this.deps.catalog.values()];
    const unknown: string[] = [];
    const chosen: CredentialSpec[] = [];
    for (const name of input.credentials ?? []) {
      const spec = this.deps.catalog.get(name);
      if (spec) chosen.push(spec);
      else unknown.push(name);
    }
    if (input.issuer) {
      const ofIssuer = specs.filter((s) => s.issuer.name === input.issuer);
      if (ofIssuer.length === 0) unknown.push(`issuer ${input.issuer}`);
      chosen.push(...ofIssuer.filter((s) => !chosen.includes(s)));
    }
    const targets = await mapLimit(chosen, 16, async (spec) => {
      const [stored, holder] = await Promise.all([
        this.deps.store.read(spec.store),
        this.deps.runs.lockHolder(spec.name),
      ]);
      return {
        credential: spec.name,
        type: spec.type,
        issuer: spec.issuer.name,
        keysToRevoke: [stored?.keyId, stored?.previousKeyId].filter((k): k is string => !!k),
        failingUntilRestart: spec.consumers.filter((c) => c.reload === 'startup').map((c) => c.name),
        reloadingThemselves: spec.consumers.filter((c) => c.reload !== 'startup').map((c) => c.name),
        deadlineMs: this.deadlineOf(spec),
        ...(holder ? { takesOverRun: holder } : {}),
      };
    });
    return { targets, unknown };
  }

  async startEmergency(input: {
    credentials: string[];
    incident: { ref: string; channel: string };
    requester: Identity;
  }): Promise<{ started: Run[]; alreadyRunning: Array<{ credential: string; runId: string }> }> {
    const specs = input.credentials.map((name) => this.spec(name));
    const started: Run[] = [];
    const alreadyRunning: Array<{ credential: string; runId: string }> = [];
    for (const spec of specs) {
      const holder = await this.deps.runs.lockHolder(spec.name);
      const held = holder ? await this.deps.runs.get(holder) : undefined;
      if (held && held.procedure === 'emergency' && held.status !== 'finished') {
        alreadyRunning.push({ credential: spec.name, runId: held.id });
        continue;
      }
      started.push(await this.startOneEmergency(spec, input, held));
    }
    return { started, alreadyRunning };
  }

  incidentRuns(ref: string): Promise<Run[]> {
    return this.deps.runs.incidentRuns(ref);
  }

  private deadlineOf(spec: CredentialSpec): number {
    return emergencyDeadlineMs(spec.type) || (this.deps.immediateDeadlineMs ?? 15 * 60_000);
  }

  /** No approval gate and no lock against it: a scheduled run holding the credential is taken over. */
  private async startOneEmergency(
    spec: CredentialSpec,
    input: { incident: { ref: string; channel: string }; requester: Identity },
    held: Run | undefined,
  ): Promise<Run> {
    const { runs, queue, audit, clock } = this.deps;
    const run = newRun({
      id: randomUUID(),
      credential: spec.name,
      requester: input.requester,
      procedure: 'emergency',
      incident: input.incident,
      now: clock.now(),
    });
    await runs.save(run);
    const previous = await runs.takeOver(spec.name, run.id, this.deps.lockTtlMs);
    await runs.addToIncident(input.incident.ref, run.id, clock.now());
    await audit.record({
      runId: run.id,
      credential: spec.name,
      action: 'emergency.started',
      outcome: 'info',
      identity: idOf(input.requester),
      detail: `incident ${input.incident.ref} in ${input.incident.channel}${held && previous === held.id ? `; took over run ${held.id}` : ''}`,
    });
    await queue.add('rotate', { runId: run.id }, { jobId: rotationJobId(run.id) });
    await this.deps.scheduleDeadlines?.(run, this.deadlineOf(spec));
    return run;
  }

  /** The latest earlier version whose key is the one kept as previous: what a rollback restores. */
  private async versionHolding(spec: CredentialSpec, current: StoredCredential): Promise<number | undefined> {
    if (!current.previousKeyId) return undefined;
    for (let v = current.version - 1; v >= Math.max(1, current.version - 10); v--) {
      const older = await this.deps.store.read(spec.store, v);
      if (older?.keyId === current.previousKeyId && older.value) return v;
    }
    return undefined;
  }

  /** Takes the lock, saves the run, audits the request and enqueues it; nothing is left half-done. */
  private async enqueue(run: Run, detail: string | undefined): Promise<Run> {
    const { runs, queue, audit } = this.deps;
    const credential = run.credential;
    let locked = false;
    try {
      const lock = await runs.acquire(credential, run.id, this.deps.lockTtlMs);
      if (!lock.ok) {
        await audit.record({
          credential,
          action: 'run.refused',
          outcome: 'refused',
          identity: idOf(run.requester),
          detail: `locked by run ${lock.holder}`,
        });
        throw new RotatorError('locked', `${credential} is already being rotated by run ${lock.holder}`, {
          context: { runId: lock.holder },
        });
      }
      locked = true;
      await runs.save(run);
      await audit.record({
        runId: run.id,
        credential,
        action: 'run.requested',
        outcome: 'info',
        identity: idOf(run.requester),
        ...(detail ? { detail } : {}),
      });
      await queue.add('rotate', { runId: run.id }, { jobId: rotationJobId(run.id) });
      return run;
    } catch (e) {
      if (isRotatorError(e) && e.code === 'locked') throw e;
      // An add that failed on the way back may have landed: then the run is real and keeps its lock.
      const enqueued = await queue.getJob(rotationJobId(run.id)).catch(() => undefined);
      if (enqueued) return run;
      if (locked) await runs.release(credential, run.id).catch(() => undefined);
      this.deps.logger.error({ credential, err: (e as Error).message }, 'rotation could not be enqueued');
      throw new RotatorError(
        'queue_unavailable',
        `the rotation queue is unavailable: nothing was started for ${credential}`,
        { transient: true },
      );
    }
  }

  async status(name: string): Promise<{
    active?: Run;
    last?: Run;
    oldKey?: Run;
    age: AgeAssessment;
    drift: DriftFinding[];
  }> {
    const spec = this.spec(name);
    const [holder, history, stored, discovered] = await Promise.all([
      this.deps.runs.lockHolder(spec.name),
      this.deps.runs.history(spec.name, 5),
      this.deps.store.read(spec.store),
      spec.kubernetesSecret ? this.deps.deployer.discover(spec.kubernetesSecret) : Promise.resolve(undefined),
    ]);
    const active = holder ? await this.deps.runs.get(holder) : undefined;
    const last = history.find((r) => r.status === 'finished');
    const drift: DriftFinding[] = [
      ...(stored ? [] : [{ kind: 'catalog-only' as const, name: spec.name, path: spec.store }]),
      ...(discovered ? clusterDrift(spec, discovered) : []),
    ];
    // An old key deactivated by a rotation (AWS), until its delayed deletion: shown with Reactivate.
    const oldKey = history.find((r) => r.facts.oldKeyDeactivatedAt && !r.facts.oldKeyDeletedAt);
    return {
      ...(active ? { active } : {}),
      ...(last ? { last } : {}),
      ...(oldKey ? { oldKey } : {}),
      age: this.ageOf(spec, stored),
      drift,
    };
  }

  due(): Promise<DueStatus[]> {
    return this.inventoryService.due();
  }

  inventory(): Promise<InventoryReport> {
    return this.inventoryService.report();
  }

  dashboard(): Promise<Dashboard> {
    return this.inventoryService.dashboard();
  }

  private ageOf(spec: CredentialSpec, stored: StoredCredential | undefined): AgeAssessment {
    return credentialAge(spec, stored, this.deps.clock.now(), this.deps.dueSoonDays);
  }

  getRun(id: string): Promise<Run | undefined> {
    return this.deps.runs.get(id);
  }

  history(name: string, limit = 10): Promise<Run[]> {
    return this.deps.runs.history(this.spec(name).name, limit);
  }

  pastRuns(name: string, limit = 10): Promise<RunHistoryEntry[]> {
    return runHistory(this.deps.audit, this.spec(name).name, limit);
  }
}
